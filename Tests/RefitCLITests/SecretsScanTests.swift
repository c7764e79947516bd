import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import RefitTestKit

/// "Secrets under faults" (issue 10 §4): the example pipeline against the real emulator, its
/// secrets supplied through environment variables and one `{"file": …}` secret file, run through
/// a wrong storage key (403), injected 5xx/429s and a failed job, a `refit run` SIGKILLed while
/// a PATCH is in flight and restarted, then converged with `refit tick`. Then everything Refit
/// wrote (the database and its -wal/-shm, read while a process had them open and after the last
/// one closed; every table; every file in the scratch folder) or printed (every tick's and run's
/// stdout/stderr, text and JSON logs, every read command's output) is scanned for every secret
/// value — raw, JSON-escaped, URL-encoded, base64 — and for SAS/AccountKey/bearer shapes.
@Suite("secrets never written or printed (faults, crashes, emulator)", .serialized, .timeLimit(.minutes(3)))
struct SecretsScanTests {
    @Test("no secret in the database, its WAL, the logs or any command's output after faults and a crash")
    func noSecretAnywhere() async throws {
        let began = Date()
        let hours = 3
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0.2"])
        let folder = try ScratchSchedules.example()
        let workers = WorkerList()
        defer {
            Thread {
                for worker in workers.all { worker.kill9() }
                emulator.stop(deadline: .seconds(2))
                folder.remove()
            }.start()
        }
        let info = emulator.info
        let retrain = try #require(info.endpoint("retrain"))

        // The example cut to `hours` windows, with room in the retry budgets for the faults.
        let pipelinePath = "pipelines/retrain-pipeline.json"
        var pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        for (old, new) in [(#""end": "2026-01-02T00:00:00Z""#, #""end": "2026-01-01T0\#(hours):00:00Z""#),
                           (#""retry": 2,"#, #""retry": 8,"#), (#""retry": 3,"#, #""retry": 8,"#)] {
            #expect(pipeline.contains(old), "the example pipeline no longer has \(old)")
            pipeline = pipeline.replacingOccurrences(of: old, with: new)
        }
        try folder.write(pipelinePath, pipeline)
        try folder.writeTrainingSlices(hours: hours)

        // The training service's API key comes from a secret file; the rest from the environment.
        let secretFileName = "secrets/training-api-key.txt"
        let secretFile = folder.root.appendingPathComponent(secretFileName).resolvingSymlinksInPath().path
        try folder.write(secretFileName, info.training.apiKey + "\n")
        try folder.write("linked-services/demo-training.json", """
            {"name": "DemoTrainingService", "properties": {"type": "AzureML", "typeProperties": {
              "mlEndpoint": {"env": "REFIT_DEMO_TRAINING_JOBS_URL"}, "apiKey": {"file": "\(secretFileName)"}}}}
            """)
        var environment = try demoEnvironment(info)
        environment.removeValue(forKey: "REFIT_DEMO_TRAINING_API_KEY")
        let wrongKey = Data((0..<64).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let wrongConnectionString = info.storage.connectionString.replacingOccurrences(of: info.storage.accountKey, with: wrongKey)
        #expect(wrongConnectionString != info.storage.connectionString)

        let db = folder.database
        let root = folder.root.path
        let evidence = SecretEvidence()
        let cli = CLIRecorder(evidence: evidence, environment: environment)

        // 1. A tick whose storage connection string carries a wrong key: staging gets a 403.
        var wrongEnvironment = environment
        wrongEnvironment["REFIT_DEMO_STORAGE_CONNECTION_STRING"] = wrongConnectionString
        let denied = try await cli.run("tick --once (wrong storage key, text log)",
                                       ["tick", "--once", "--schedules", root, "--db", db], environment: wrongEnvironment)
        #expect(denied.exitCode == 0, "stderr: \(denied.stderr.suffix(500))")
        let afterDenied = try await cli.history(db)
        #expect(afterDenied.contains { $0.status == "Failed" && ($0.error ?? "").contains("403") },
                "the wrong key should fail staging with a 403: \(afterDenied)")
        // A 403 fails the windows for good; the operator fixes the key and reruns them.
        let rerun = try await cli.run("rerun (after the key fix)",
                                      ["rerun", "--schedules", root, "--db", db, "--pipeline", "RetrainPipeline", "--activity", "Retrain",
                                       "--window", "2026-01-01T00:00:00Z", "--to", "2026-01-01T0\(hours):00:00Z",
                                       "--reason", "storage key fixed"])
        #expect(rerun.exitCode == 0, "rerun: \(rerun.stderr.suffix(500))")

        // 2. A tick through 5xx/429 answers and a failed job (JSON log).
        try await emulator.setFaults("""
            {"plans":[{"operation":"submit","status":503,"count":1,"retryAfter":1},
                      {"operation":"status","status":429,"count":2,"retryAfter":1},
                      {"operation":"blob","status":500,"count":1},
                      {"operation":"start","status":500,"count":1}],
             "failJobs":1,"failJobsDetails":"injected failure"}
            """)
        let faultedTick = try await cli.run("tick --once (faults, json log)",
                                        ["tick", "--once", "--schedules", root, "--db", db, "--log-format", "json"])
        #expect(faultedTick.exitCode == 0, "stderr: \(faultedTick.stderr.suffix(500))")
        try await emulator.clearFaults()
        evidence.addDatabaseFiles(db, moment: "after the faulted tick")

        // 3. `refit run`, SIGKILLed while its PATCH is held by the emulator, then restarted.
        // (The faulted tick's retries run here, one of their jobs failing.)
        try await emulator.setFaults(#"{"plans":[{"operation":"patch","holdMs":8000,"count":1}],"failJobs":1,"failJobsDetails":"injected failure"}"#)
        let workerArguments = ["--schedules", root, "--db", db, "--log-format", "json", "--lease-seconds", "3"]
        let first = try workers.start(arguments: workerArguments, environment: environment,
                                      logFile: folder.root.appendingPathComponent("worker-0.log"))
        let held = try await waitUntil(seconds: 25) { try await emulator.operations().contains { $0.op == "patch" && $0.fault == "hold" } }
        #expect(held, "no PATCH was held; worker log: \(first.logTail().suffix(500))")
        evidence.addDatabaseFiles(db, moment: "while refit run had it open")
        _ = try? await offPool { first.kill9() }
        evidence.addDatabaseFiles(db, moment: "after refit run was SIGKILLed")
        try await emulator.clearFaults()

        let second = try workers.start(arguments: workerArguments, environment: environment,
                                       logFile: folder.root.appendingPathComponent("worker-1.log"))
        _ = try await waitUntil(seconds: 20) {
            let rows = try await cli.history(db, record: false)
            return converged(rows, hours: hours)
        }
        evidence.addDatabaseFiles(db, moment: "while the restarted refit run had it open")
        let stopped = try await offPool { second.stop() }
        #expect(stopped == 0, "the restarted worker did not exit 0 on SIGTERM: \(second.logTail().suffix(500))")
        for (index, worker) in [first, second].enumerated() {
            evidence.add("refit run #\(index + 1) stderr (json log)", (try? Data(contentsOf: worker.logFile)) ?? Data())
        }

        // 4. Converge with `refit tick` (bounded).
        var rows: [HistoryRow] = []
        let convergeBy = Date().addingTimeInterval(25)
        repeat {
            let tick = try await cli.run("tick (converge, text log)", ["tick", "--schedules", root, "--db", db])
            #expect(tick.exitCode == 0, "stderr: \(tick.stderr.suffix(500))")
            rows = try await cli.history(db)
            if converged(rows, hours: hours) { break }
            try await Task.sleep(for: .milliseconds(700))
        } while Date() < convergeBy
        #expect(converged(rows, hours: hours), "not converged: \(rows)")
        #expect(rows.contains { $0.status == "Failed" }, "the faults should have failed some attempts: \(rows)")
        #expect(rows.contains { $0.error?.contains("injected failure") == true }, "no attempt saw the failed job: \(rows)")
        let faulted = try await emulator.operations().filter { $0.fault != nil }
        #expect(Set(faulted.map(\.op)).isSuperset(of: ["submit", "start", "patch"]),
                "faults that took effect: \(faulted.map { "\($0.op) \($0.fault ?? "")" })")
        print("SecretsScan: \(rows.count) attempts; faults applied: \(faulted.map { "\($0.op):\($0.fault ?? "")" })")

        // 5. Every read command, in every format that matters.
        let pipelineName = "RetrainPipeline"
        let reads: [[String]] = [
            ["history"], ["history", "--format", "json"], ["history", "--format", "csv"],
            ["slices", "--schedules", root, "--pipeline", pipelineName],
            ["slices", "--schedules", root, "--pipeline", pipelineName, "--format", "json"],
            ["audit"], ["audit", "--format", "json"], ["audit", "list", "--format", "csv"],
            ["audit", "verify"], ["audit", "verify", "--format", "json"],
            ["status", "--schedules", root], ["status", "--schedules", root, "--format", "json"],
            ["lineage", "--schedules", root, "--pipeline", pipelineName, "--activity", "UpdateScoringEndpoint"],
            ["lineage", "--schedules", root, "--pipeline", pipelineName, "--activity", "UpdateScoringEndpoint", "--format", "json"],
            ["backfills"], ["backfills", "--format", "json"],
            // The HTML report lands under the folder, which step 7 scans.
            ["report", "--schedules", root, "--out", root + "/report.html", "--format", "json"],
        ]
        for arguments in reads {
            let result = try await cli.run(arguments.joined(separator: " "), arguments + ["--db", db])
            #expect(result.exitCode == 0, "refit \(arguments.joined(separator: " ")): \(result.stderr.suffix(300))")
        }
        for arguments in [["validate", "--schedules", root],
                          ["plan", "--schedules", root, "--pipeline", pipelineName, "--format", "json"]] {
            _ = try await cli.run(arguments.joined(separator: " "), arguments)
        }
        for row in rows {
            for format in ["json", "table"] {
                let shown = try await cli.run("show \(row.activity)@\(row.windowStart) #\(row.attempt) --format \(format)",
                                              ["show", row.runId, "--db", db, "--format", format])
                #expect(shown.exitCode == 0, "show \(row.runId): \(shown.stderr.suffix(300))")
            }
            _ = try await cli.run("lineage --run \(row.activity)@\(row.windowStart) #\(row.attempt)",
                                  ["lineage", "--schedules", root, "--db", db, "--run", row.runId, "--format", "json"])
        }
        for hour in 0..<hours {
            _ = try await cli.run("lineage --dataset TrainingData --slice hour \(hour)",
                                  ["lineage", "--schedules", root, "--db", db, "--dataset", "TrainingData",
                                   "--slice", "2026-01-01T0\(hour):00:00Z", "--format", "json"])
        }

        // 6. The SAS signatures the emulator minted: ask each training job's status as Refit did
        // (each answer mints fresh output tokens), plus the account SAS it hands out.
        var secrets: [ScannedSecret] = [
            ScannedSecret(name: "training API key (file secret)", value: info.training.apiKey),
            ScannedSecret(name: "retrain endpoint API key (REFIT_DEMO_SCORING_API_KEY)", value: retrain.apiKey),
            ScannedSecret(name: "storage account key", value: info.storage.accountKey),
            ScannedSecret(name: "storage connection string", value: info.storage.connectionString, random: false),
            ScannedSecret(name: "wrong storage key (tick 1)", value: wrongKey),
            ScannedSecret(name: "wrong-key connection string (tick 1)", value: wrongConnectionString, random: false),
            ScannedSecret(name: "emulator management token", value: info.managementToken),
        ]
        if let defaultEndpoint = info.endpoint("default") {
            secrets.append(ScannedSecret(name: "default endpoint API key", value: defaultEndpoint.apiKey))
        }
        if let accountSig = SecretScan.signature(inQuery: info.storage.sasToken) {
            secrets.append(ScannedSecret(name: "account SAS signature", value: accountSig))
        }
        let statusSigs = try await jobStatusSignatures(info, operations: try await emulator.operations("submit"))
        #expect(!statusSigs.isEmpty, "no SAS signature could be read from the emulator's job status answers")
        for (index, sig) in statusSigs.enumerated() {
            secrets.append(ScannedSecret(name: "SasBlobToken sig #\(index + 1) from a job status answer", value: sig))
        }
        let fileSecret = try String(contentsOfFile: secretFile, encoding: .utf8)
        secrets.append(ScannedSecret(name: "secret file content", value: fileSecret.trimmingCharacters(in: .newlines)))

        // Stop the emulator now (SIGKILL after 2 s: a held answer may still be pending), so no
        // process outlives the test even when it is the last one the test binary runs.
        await emulator.stop(deadline: .seconds(2))

        // 7. The files once the last process has closed them, and every table.
        evidence.addDatabaseFiles(db, moment: "after the last process closed it")
        let dump = try await offPool { try SecretScan.pythonDump(db) }
        #expect(dump.exitCode == 0 && dump.stdout.contains("== table"), "python3 sqlite3 dump failed: \(dump.stderr.suffix(300))")
        evidence.add("python sqlite3 dump of every table", dump)
        evidence.addFiles(under: folder.root, excluding: [secretFile], moment: "at the end")

        // What was scanned covers what it should: the WAL while a process had it open, the JSON
        // logs of both runs, and the staged data's and models' locations Refit recorded.
        let labels = evidence.items.filter { !$0.data.isEmpty }.map(\.label)
        #expect(labels.contains { $0.contains("-wal (while refit run had it open)") }, "no WAL read while open: \(labels.filter { $0.contains("database") })")
        #expect(labels.contains("refit run #1 stderr (json log)") && labels.contains("refit run #2 stderr (json log)"))
        #expect(evidence.items.contains { $0.label.hasPrefix("python") && String(decoding: $0.data, as: UTF8.self).contains("refit-staging") },
                "the dump names no staged input")

        // The scanner itself finds a secret where there is one.
        let control = SecretEvidence()
        control.addFiles(under: folder.root.appendingPathComponent("secrets"), excluding: [], moment: "control")
        control.add("control: JSON-escaped", "{\"k\":\"\(info.storage.accountKey.replacingOccurrences(of: "/", with: "\\/"))\"}")
        control.add("control: sig", "https://x/y?sv=2020-12-06&sig=\(statusSigs.first ?? "abcdefghijklmnop%2Bqrstuv")")
        let controlHits = SecretScan.findings(in: control, secrets: secrets)
        #expect(controlHits.contains { $0.contains("secret file content") } && controlHits.contains { $0.contains("control: JSON-escaped") }
                && controlHits.contains { $0.contains("control: sig") }, "the scanner missed planted secrets: \(controlHits)")

        let findings = SecretScan.findings(in: evidence, secrets: secrets)
        #expect(findings.isEmpty, """
            SECRET LEAK — \(findings.count) hit(s) in what Refit wrote or printed:
            \(findings.prefix(40).joined(separator: "\n"))
            """)
        let elapsed = Date().timeIntervalSince(began)
        print("SecretsScan: scanned \(evidence.items.count) outputs/files (\(evidence.items.reduce(0) { $0 + $1.data.count }) bytes) "
              + "for \(secrets.count) secrets in \(String(format: "%.1f", elapsed)) s; \(findings.count) hit(s)")
    }
}

// MARK: - Helpers

/// Runs `refit` commands with the test's environment and records their output as evidence.
private struct CLIRecorder: Sendable {
    let evidence: SecretEvidence
    let environment: [String: String]

    @discardableResult
    func run(_ label: String, _ arguments: [String], environment: [String: String]? = nil, record: Bool = true) async throws -> ProcessResult {
        let env = environment ?? self.environment
        let result = try await offPool {
            try runProcess(BuiltProducts.executable("refit"), arguments, environment: env,
                           currentDirectory: BuiltProducts.packageRoot, deadline: .seconds(45))
        }
        if record { evidence.add("refit \(label)", result) }
        return result
    }

    func history(_ db: String, record: Bool = true) async throws -> [HistoryRow] {
        let result = try await run("history --format json", ["history", "--db", db, "--format", "json"], record: record)
        guard result.exitCode == 0 else { return [] }
        return (try? JSONDecoder().decode([HistoryRow].self, from: Data(result.stdout.utf8))) ?? []
    }
}

/// The `refit run` processes a test started, so cleanup can kill what is left.
private final class WorkerList: @unchecked Sendable {
    private let lock = NSLock()
    private var workers: [WorkerProcess] = []
    var all: [WorkerProcess] { lock.lock(); defer { lock.unlock() }; return workers }

    func start(arguments: [String], environment: [String: String], logFile: URL) throws -> WorkerProcess {
        let worker = try WorkerProcess(arguments: arguments, environment: environment, logFile: logFile)
        lock.lock(); workers.append(worker); lock.unlock()
        return worker
    }
}

/// Every Retrain window succeeded and every update window succeeded or was skipped.
private func converged(_ rows: [HistoryRow], hours: Int) -> Bool {
    func done(_ activity: String, _ statuses: Set<String>) -> Int {
        Set(rows.filter { $0.activity == activity && statuses.contains($0.status) }.map(\.windowStart)).count
    }
    return done("Retrain", ["Succeeded"]) == hours && done("UpdateScoringEndpoint", ["Succeeded", "Skipped"]) == hours
}

/// Polls `condition` every 100 ms until it holds or `seconds` pass; true when it held.
private func waitUntil(seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if (try? await condition()) == true { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return false
}

/// The `sig` of every `SasBlobToken` in the status answers of the submitted training jobs.
private func jobStatusSignatures(_ info: EmulatorProcess.Info, operations: [EmulatorProcess.Operation]) async throws -> [String] {
    var jobs = try #require(URLComponents(string: info.training.jobsURL))
    let query = jobs.percentEncodedQuery
    jobs.query = nil
    let base = try #require(jobs.url)
    var sigs: [String] = []
    for jobId in Set(operations.compactMap(\.jobId)) {
        var components = try #require(URLComponents(url: base.appendingPathComponent(jobId), resolvingAgainstBaseURL: false))
        components.percentEncodedQuery = query
        var request = URLRequest(url: try #require(components.url))
        request.setValue("Bearer \(info.training.apiKey)", forHTTPHeaderField: "Authorization")
        guard let (body, response) = try? await URLSession.shared.data(for: request),
              (response as? HTTPURLResponse)?.statusCode == 200,
              let json = try? JSONSerialization.jsonObject(with: body) else { continue }
        sigs += SecretScan.sasTokens(in: json).compactMap(SecretScan.signature(inQuery:))
    }
    return sigs
}
