import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import RefitTestKit

/// `refit run --metrics-address` scraped while it runs against the emulator (on SQLite and on
/// PostgreSQL), the exposition parsed by the Prometheus project's own Python parser (PyPI
/// `prometheus-client`); and
/// `refit metrics`, the same store families once on stdout. Child processes are waited for off
/// the cooperative pool (`offPool`), so these tests never hold up the others' timers.
@Suite("refit run --metrics-address and refit metrics", .timeLimit(.minutes(3)))
struct ServeMetricsTests {
    @Test("/metrics parses with prometheus_client and counts what history holds; /status is refit status; /healthz is 200")
    func scrapeDuringRun() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let pipelinePath = "pipelines/retrain-pipeline.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T04:00:00Z""#))
        try folder.writeTrainingSlices(hours: 4)
        let environment = try demoEnvironment(emulator.info)
        let port = try await offPool { try freePort() }
        let base = "http://127.0.0.1:\(port)"
        let worker = try WorkerProcess(arguments: ["--schedules", folder.root.path, "--db", folder.database, "--metrics-address", "\(port)"],
                                       environment: environment, logFile: folder.root.appendingPathComponent("worker.log"))
        defer { Thread { worker.stop() }.start() }

        let settled = try await SettledScrape.wait(worker: worker, base: base, db: folder.database, updateWindows: 4, folder: folder,
                                                   environment: environment)
        let rows = settled.rows, families = settled.families
        #expect(rows.filter { $0.activity == "UpdateScoringEndpoint" && $0.endedAt != nil }.count >= 4, "log: \(worker.logTail())")
        #expect(settled.status == 200)

        let expected: [String: String] = [
            "refit_windows": "gauge", "refit_attempts_started": "counter", "refit_attempts_finished": "counter",
            "refit_attempt_duration_seconds": "histogram", "refit_data_to_submit_seconds": "histogram",
            "refit_slice_checks": "counter", "refit_slice_check_duration_seconds": "histogram", "refit_http_requests": "counter",
            "refit_deployments": "counter", "refit_serving_window_age_seconds": "gauge", "refit_pass_duration_seconds": "histogram",
            "refit_history_attempts": "gauge", "refit_history_deployments": "gauge",
        ]
        for (name, type) in expected {
            #expect(families[name]?.type == type, "\(name) in \(families.keys.sorted())")
        }
        // Every attempt history ended was counted by outcome, by the worker and from the store alike.
        let fromHistory = SettledScrape.outcomes(rows)
        #expect(byActivityOutcome("refit_attempts_finished", families) == fromHistory)
        #expect(byActivityOutcome("refit_history_attempts", families) == fromHistory)
        let started = (families["refit_attempts_started"]?.samples ?? []).filter { $0.name.hasSuffix("_total") }.map(\.value).reduce(0, +)
        #expect(started == Double(rows.count))
        let ready = families["refit_windows"]?.samples.first {
            $0.labels["activity"] == "Retrain" && $0.labels["state"] == "Ready"
        }
        #expect(ready?.value == 4)
        let aml = (families["refit_http_requests"]?.samples ?? []).filter { $0.labels["target"] == "aml" && $0.labels["status_class"] == "2xx" }
        #expect((aml.first?.value ?? 0) > 0)
        let labelValues = families.values.flatMap(\.samples).flatMap { $0.labels.values }
        #expect(!labelValues.contains { $0.contains("sig=") || $0.contains("?") }, "no URL with a query in a label")
        let deployed = (families["refit_deployments"]?.samples ?? []).filter { $0.name.hasSuffix("_total") }.map(\.value).reduce(0, +)
        #expect(deployed == Double(rows.filter { $0.activity == "UpdateScoringEndpoint" && $0.endedAt != nil && $0.status != "Failed" }.count))
        let age = families["refit_serving_window_age_seconds"]?.samples.first
        #expect((age?.value ?? 0) > 0 && age?.labels["endpoint"]?.contains("?") == false)

        // /status is `refit status --format json`, but for the moment it was made.
        let (served, statusCode) = try await get(base + "/status")
        let printed = try await refitOffPool("status", "--schedules", folder.root.path, "--db", folder.database, "--format", "json",
                                             environment: environment)
        #expect(statusCode == 200 && printed.exitCode == 0)
        #expect(try withoutGeneratedAt(served) == withoutGeneratedAt(printed.stdout))

        let (health, healthCode) = try await get(base + "/healthz")
        #expect(healthCode == 200 && health == "ok\n")

        // A second worker on the same address: one sentence, exit 1, and no work done.
        let other = try ScratchSchedules.example()
        defer { other.remove() }
        let second = try await refitOffPool("run", "--schedules", other.root.path, "--db", other.database, "--metrics-address",
                                            "127.0.0.1:\(port)", environment: environment)
        #expect(second.exitCode == 1)
        #expect(second.stderr == "The metrics address 127.0.0.1:\(port) is already in use; choose another with --metrics-address.\n")
        let untouched = try await refitOffPool("history", "--db", other.database, "--format", "json", environment: environment)
        #expect(untouched.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let noWindows = try await refitOffPool("metrics", "--schedules", other.root.path, "--db", other.database, environment: environment)
        #expect(noWindows.exitCode == 0)
        #expect(!noWindows.stdout.split(separator: "\n").contains { $0.hasPrefix("refit_windows{") && !$0.hasSuffix(" 0.0") },
                "no window was created: \(noWindows.stdout)")

        #expect(worker.stop() == 0, "refit run exits 0 on SIGTERM with the metrics server")
    }

    @Test("on PostgreSQL: /metrics counts what history holds (data-to-submit included), /status is refit status, /healthz is 200")
    func scrapeDuringRunOnPostgres() async throws {
        let database = try ScratchPostgresDatabase(prefix: "refit_serve")
        let url = database.url
        // The worker is given a password in its URL; no output may show it.
        let withPassword = url.replacingOccurrences(of: "postgres://refit@", with: "postgres://refit:hunter2@")
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let pipelinePath = "pipelines/retrain-pipeline.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T02:00:00Z""#))
        try folder.writeTrainingSlices(hours: 2)
        let environment = try demoEnvironment(emulator.info)
        let port = try await offPool { try freePort() }
        let base = "http://127.0.0.1:\(port)"
        let worker = try WorkerProcess(arguments: ["--schedules", folder.root.path, "--db", withPassword, "--metrics-address", "\(port)"],
                                       environment: environment, logFile: folder.root.appendingPathComponent("worker.log"))
        defer { Thread { worker.stop() }.start() }

        let settled = try await SettledScrape.wait(worker: worker, base: base, db: url, updateWindows: 2, folder: folder,
                                                   environment: environment)
        let rows = settled.rows, families = settled.families, scrape = settled.text
        #expect(rows.filter { $0.activity == "UpdateScoringEndpoint" && $0.endedAt != nil }.count == 2, "log: \(worker.logTail())")
        #expect(settled.status == 200, "\(scrape)")

        // The store families, read through the scrapes' own PostgreSQL connection.
        let fromHistory = SettledScrape.outcomes(rows)
        #expect(!fromHistory.isEmpty)
        #expect(byActivityOutcome("refit_history_attempts", families) == fromHistory)
        #expect(byActivityOutcome("refit_attempts_finished", families) == fromHistory)
        let windows = families["refit_windows"]?.samples ?? []
        #expect(windows.count == 2 * 5, "two activities × five states: \(windows.map(\.labels))")
        #expect(windows.first { $0.labels["activity"] == "Retrain" && $0.labels["state"] == "Ready" }?.value == 2)
        let deployments = (families["refit_history_deployments"]?.samples ?? []).map(\.value).reduce(0, +)
        #expect(deployments == 2, "one deployment or supersession per update window: \(families["refit_history_deployments"]?.samples ?? [])")
        let age = families["refit_serving_window_age_seconds"]?.samples.first
        #expect((age?.value ?? 0) > 0 && age?.labels["endpoint"]?.contains("?") == false)
        // The data-to-submit latency needs when each window's data landed, read from PostgreSQL
        // by the worker before it submits: one observation per training attempt that submitted.
        let submitted = Double(rows.filter { $0.activity == "Retrain" && $0.status == "Succeeded" }.count)
        let dataToSubmit = families["refit_data_to_submit_seconds"]?.samples.first { $0.name == "refit_data_to_submit_seconds_count" }
        #expect(submitted == 2 && dataToSubmit?.value == submitted, "\(families["refit_data_to_submit_seconds"]?.samples ?? [])")

        // /status is `refit status --format json` on the same database, but for the moment it was made.
        let (served, statusCode) = try await get(base + "/status")
        let printed = try await refitOffPool("status", "--schedules", folder.root.path, "--db", url, "--format", "json",
                                             environment: environment)
        #expect(statusCode == 200 && printed.exitCode == 0, "\(served) \(printed.stderr)")
        #expect(try withoutGeneratedAt(served) == withoutGeneratedAt(printed.stdout))

        let (health, healthCode) = try await get(base + "/healthz")
        #expect(healthCode == 200 && health == "ok\n")

        #expect(worker.stop() == 0, "refit run exits 0 on SIGTERM with the metrics server")
        let log = (try? String(contentsOf: worker.logFile, encoding: .utf8)) ?? ""
        #expect(!log.contains("hunter2") && !scrape.contains("hunter2") && !served.contains("hunter2"))
    }

    @Test("an unparsable --metrics-address: one sentence, exit 1")
    func badAddress() async throws {
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let result = try await refitOffPool("run", "--schedules", folder.root.path, "--db", folder.database, "--metrics-address", "localhost:http")
        #expect(result.exitCode == 1)
        #expect(result.stderr == "The metrics address 'localhost:http' is not HOST:PORT or PORT (a port from 0 to 65535).\n")
        #expect(!FileManager.default.fileExists(atPath: folder.database), "nothing was opened before the address was checked")
    }

    @Test("refit metrics on an empty database: every defined window state at 0, and it parses")
    func metricsOnEmptyDatabase() async throws {
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        #expect(FileManager.default.createFile(atPath: folder.database, contents: nil))
        let result = try await refitOffPool("metrics", "--schedules", folder.root.path, "--db", folder.database)
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let families = try await parseWithPrometheusClient(result.stdout, in: folder)
        #expect(families["refit_windows"]?.type == "gauge")
        #expect(families["refit_windows"]?.samples.count == 2 * 5, "two activities × five states")
        #expect(families["refit_windows"]?.samples.allSatisfy { $0.value == 0 } == true)
        #expect(families["refit_attempts_started"] == nil, "a running worker's counters are not in refit metrics")
        let missing = try await refitOffPool("metrics", "--schedules", folder.root.path, "--db", folder.root.appendingPathComponent("none.sqlite").path)
        #expect(missing.exitCode == 1 && missing.stderr.split(separator: "\n").count == 1)
    }
}

/// A `refit run` that has done its work, and what it serves then: history read once every
/// update window has ended and no attempt runs, and a `/metrics` scrape taken once the worker
/// has counted every ended attempt (it counts one after recording its outcome). The wait ends
/// on those events; its deadline only guards against a hang.
struct SettledScrape {
    var rows: [HistoryRow]
    var text: String
    var status: Int
    var families: [String: ParsedFamily]

    static func wait(worker: WorkerProcess, base: String, db: String, updateWindows: Int, folder: ScratchSchedules,
                     environment: [String: String]) async throws -> SettledScrape {
        let deadline = ContinuousClock.now + .seconds(90)
        func history() async throws -> [HistoryRow] {
            let history = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            return (try? JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))) ?? []
        }
        // Until every update window has ended (deployed or superseded) and nothing runs.
        var rows: [HistoryRow] = []
        while ContinuousClock.now < deadline, worker.isRunning {
            rows = try await history()
            let updated = Set(rows.filter { $0.activity == "UpdateScoringEndpoint" && ["Succeeded", "Skipped"].contains($0.status) }
                .map(\.windowStart))
            if updated.count >= updateWindows, rows.allSatisfy({ $0.endedAt != nil }) { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        let ended = outcomes(rows)
        var scrape = SettledScrape(rows: rows, text: "", status: 0, families: [:])
        repeat {
            (scrape.text, scrape.status) = try await get(base + "/metrics")
            scrape.families = try await parseWithPrometheusClient(scrape.text, in: folder)
            if byActivityOutcome("refit_attempts_finished", scrape.families) == ended { break }
            try await Task.sleep(for: .milliseconds(200))
        } while ContinuousClock.now < deadline
        return scrape
    }

    /// Ended attempts in history per "activity outcome".
    static func outcomes(_ rows: [HistoryRow]) -> [String: Double] {
        var counts: [String: Double] = [:]
        for row in rows where row.endedAt != nil { counts["\(row.activity) \(row.status)", default: 0] += 1 }
        return counts
    }
}

/// A family's samples summed per "activity outcome", zeros left out (`_created` samples aside).
func byActivityOutcome(_ family: String, _ families: [String: ParsedFamily]) -> [String: Double] {
    var counts: [String: Double] = [:]
    for sample in families[family]?.samples ?? [] where !sample.name.hasSuffix("_created") {
        counts["\(sample.labels["activity"] ?? "") \(sample.labels["outcome"] ?? "")", default: 0] += sample.value
    }
    return counts.filter { $0.value > 0 }
}

/// One family as prometheus_client parsed it.
struct ParsedFamily: Decodable {
    struct Sample: Decodable {
        var name: String
        var labels: [String: String]
        var value: Double
    }
    var type: String
    var samples: [Sample]
}

/// Parses exposition text with `prometheus_client.parser.text_string_to_metric_families` and
/// returns the families by name (the parser drops a counter's `_total` from its family name).
func parseWithPrometheusClient(_ text: String, in folder: ScratchSchedules) async throws -> [String: ParsedFamily] {
    let file = folder.root.appendingPathComponent("scrape-\(UUID().uuidString).txt")
    try text.write(to: file, atomically: true, encoding: .utf8)
    let script = """
        import json, math, sys
        from prometheus_client.parser import text_string_to_metric_families
        out = {}
        for family in text_string_to_metric_families(open(sys.argv[1]).read()):
            out[family.name] = {"type": family.type, "samples": [
                {"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else 1e308} for s in family.samples]}
        print(json.dumps(out))
        """
    let result = try await offPool {
        try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, file.path])
    }
    guard result.exitCode == 0 else {
        Issue.record("prometheus_client could not parse the exposition: \(result.stderr)\n\(text)")
        return [:]
    }
    return try JSONDecoder().decode([String: ParsedFamily].self, from: Data(result.stdout.utf8))
}

/// A TCP port free on loopback now.
func freePort() throws -> Int {
    let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), [
        "python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
    return try #require(Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
}

/// GET `url`: the body as text and the status code.
func get(_ url: String) async throws -> (String, Int) {
    let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
    return (String(decoding: data, as: UTF8.self), (response as? HTTPURLResponse)?.statusCode ?? 0)
}

/// A status document without its one time-varying field, as comparable JSON.
func withoutGeneratedAt(_ json: String) throws -> NSDictionary {
    var object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    object["generatedAt"] = nil
    // A running worker heartbeats every interval: one may land between the two reads.
    object["workerDetails"] = (object["workerDetails"] as? [[String: Any]])?.map { $0.filter { $0.key != "heartbeat" } }
    return object as NSDictionary
}
