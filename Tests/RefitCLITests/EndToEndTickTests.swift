import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import RefitTestKit

/// `refit tick` against the real emulator with the repository's example schedules: FileShare
/// probes find hourly CSVs, Retrain submits BES jobs, UpdateScoringEndpoint patches the retrain
/// endpoint, and the newest window's model ends up serving.
@Suite("refit tick end to end (emulator)", .timeLimit(.minutes(5)))
struct EndToEndTickTests {
    @Test("three hourly windows: three trainings, one submit each, the newest model serves")
    func threeHourlyWindows() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let info = emulator.info
        let retrain = try #require(info.endpoint("retrain"))

        // The data host is relative to the schedules folder (not to refit's working directory,
        // which is the package root here): both the probe and the staging step must find the files.
        // Each test's own folder keeps parallel tests apart.
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let pipelinePath = "pipelines/retrain-pipeline.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        #expect(pipeline.contains(#""end": "2026-01-02T00:00:00Z""#))
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T03:00:00Z""#))
        try folder.writeTrainingSlices(hours: 3)

        let environment = try demoEnvironment(info)

        let db = folder.database
        var rows: [HistoryRow] = []
        var finished = false
        for _ in 0..<8 where !finished {
            let tick = try await refitOffPool("tick", "--schedules", folder.root.path, "--db", db, environment: environment)
            #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
            let history = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            rows = try JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))
            let trained = rows.filter { $0.activity == "Retrain" && $0.status == "Succeeded" }
            let updatedWindows = Set(rows.filter { $0.activity == "UpdateScoringEndpoint" && ["Succeeded", "Skipped"].contains($0.status) }
                .map(\.windowStart))
            finished = trained.count == 3 && updatedWindows.count == 3
        }
        #expect(finished, "history: \(rows)")
        let retrains = rows.filter { $0.activity == "Retrain" }
        #expect(retrains.count == 3 && retrains.allSatisfy { $0.status == "Succeeded" && $0.externalJobId != nil })
        #expect(Set(retrains.map(\.windowStart)) == ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"])

        #expect(try await emulator.operations("submit").count == 3)

        var request = URLRequest(url: try #require(URL(string: retrain.managementURL)))
        request.setValue("Bearer \(retrain.apiKey)", forHTTPHeaderField: "Authorization")
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let resource = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let resources = resource?["Resources"] as? [[String: Any]]
        let location = resources?.first?["Location"] as? [String: Any]
        let relative = location?["RelativeLocation"] as? String
        #expect(relative?.contains("2026010102") == true, "endpoint: \(String(decoding: body, as: UTF8.self))")
    }

    @Test("refit run: a first SIGINT waits for the running attempt, a second ends it at once with the lease given back")
    func secondInterruptStopsNow() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "120"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        try folder.writeTrainingSlices(hours: 1)
        let environment = try demoEnvironment(emulator.info)
        let db = folder.database
        let worker = Process()
        worker.executableURL = BuiltProducts.executable("refit")
        worker.arguments = ["run", "--schedules", folder.root.path, "--db", db]
        worker.environment = environment
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        try worker.run()
        var started = false
        let deadline = ContinuousClock.now + .seconds(60)
        while !started && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            started = try await !emulator.operations("start").isEmpty
        }
        #expect(started, "the retrain job started")
        kill(worker.processIdentifier, SIGINT)
        try await Task.sleep(for: .seconds(1))
        #expect(worker.isRunning, "the first SIGINT lets the running attempt go on (grace period)")
        kill(worker.processIdentifier, SIGINT)
        let status = try await offPool { ChildExit.wait(for: worker, timeout: .seconds(20)) }
        #expect(status == 0, "refit run ends at once on the second SIGINT")
        let history = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
        let rows = try JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))
        let retrain = try #require(rows.first { $0.activity == "Retrain" })
        #expect(retrain.status != "InProgress", "the attempt was recorded as interrupted: \(retrain)")
        #expect(try await emulator.operations("delete").isEmpty, "the job keeps running for the next attempt to resume")
    }

    @Test("refit run over a day: the newest model serves, and no superseded window ever PATCHes (D14)")
    func runDeploysMonotonically() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let info = emulator.info
        let retrain = try #require(info.endpoint("retrain"))
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        try folder.writeTrainingSlices(hours: 24)
        let environment = try demoEnvironment(info)
        let db = folder.database

        let worker = Process()
        worker.executableURL = BuiltProducts.executable("refit")
        worker.arguments = ["run", "--schedules", folder.root.path, "--db", db]
        worker.environment = environment
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        try worker.run()
        var rows: [HistoryRow] = []
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(300))
            let history = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            rows = (try? JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))) ?? []
            let updated = Set(rows.filter { $0.activity == "UpdateScoringEndpoint" && ["Succeeded", "Skipped"].contains($0.status) }
                .map(\.windowStart))
            if updated.count == 24 { break }
        }
        let status = try await offPool { () -> Int32? in
            worker.terminate()
            return ChildExit.wait(for: worker, timeout: .seconds(30))
        }
        #expect(status == 0, "refit run exits 0 on SIGTERM")

        let succeeded = rows.filter { $0.activity == "UpdateScoringEndpoint" && $0.status == "Succeeded" }
        let superseded = rows.filter { $0.activity == "UpdateScoringEndpoint" && $0.status == "Skipped" }
        #expect(succeeded.count + superseded.count == 24, "history: \(rows)")
        #expect(superseded.allSatisfy { $0.substatus == "Superseded" })
        // Every PATCH belongs to a window that deployed; a superseded window never touched the endpoint.
        #expect(try await emulator.operations("patch").count == succeeded.count)

        var request = URLRequest(url: try #require(URL(string: retrain.managementURL)))
        request.setValue("Bearer \(retrain.apiKey)", forHTTPHeaderField: "Authorization")
        let (body, _) = try await URLSession.shared.data(for: request)
        let endpoint = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let location = ((endpoint?["Resources"] as? [[String: Any]])?.first?["Location"]) as? [String: Any]
        #expect((location?["RelativeLocation"] as? String)?.contains("2026010123") == true,
                "endpoint: \(String(decoding: body, as: UTF8.self))")
    }

    @Test("refit run: data landing for a waiting slice is found at once, not at the next retryInterval check")
    func landingDataWakesWaitingSlice() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let pipelinePath = "pipelines/retrain-pipeline.json", datasetPath = "datasets/training-data.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T02:00:00Z""#))
        // The next check of a missing slice would come an hour later.
        let dataset = try String(contentsOf: folder.root.appendingPathComponent(datasetPath), encoding: .utf8)
        #expect(dataset.contains(#""retryInterval": "00:01:00""#))
        try folder.write(datasetPath, dataset.replacingOccurrences(of: #""retryInterval": "00:01:00""#,
                                                                   with: #""retryInterval": "01:00:00""#))
        try folder.writeTrainingSlices(hours: 1)          // hour 01 is missing
        let environment = try demoEnvironment(emulator.info)
        let db = folder.database
        let worker = try WorkerProcess(arguments: ["--schedules", folder.root.path, "--db", db, "--log-format", "json"],
                                       environment: environment, logFile: folder.root.appendingPathComponent("worker.log"))
        defer { Thread { worker.stop() }.start() }

        func slices() async throws -> [SliceRow] {
            let out = try await refitOffPool("slices", "--schedules", folder.root.path, "--db", db, "--pipeline", "RetrainPipeline",
                                "--format", "json", environment: environment)
            return (try? JSONDecoder().decode([SliceRow].self, from: Data(out.stdout.utf8))) ?? []
        }
        func history() async throws -> [HistoryRow] {
            let out = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            return (try? JSONDecoder().decode([HistoryRow].self, from: Data(out.stdout.utf8))) ?? []
        }
        // Hour 00 is trained; hour 01's slice has been checked, found absent, and waits.
        var waiting = false
        var deadline = ContinuousClock.now + .seconds(60)
        while !waiting && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let trained = try await history().contains { $0.activity == "Retrain" && $0.windowStart == "2026-01-01T00:00:00Z" && $0.status == "Succeeded" }
            let absent = try await slices().contains { $0.kind == "external" && $0.sliceStart == "2026-01-01T01:00:00Z" && $0.status == "Waiting" && $0.attempts >= 1 }
            waiting = trained && absent
        }
        #expect(waiting, "hour 01 never waited; log: \(worker.logTail())")

        try folder.writeTrainingSlices(hours: 2)          // hour 01 lands
        var trained = false
        deadline = ContinuousClock.now + .seconds(60)
        while !trained && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            trained = try await history().contains { $0.activity == "Retrain" && $0.windowStart == "2026-01-01T01:00:00Z" && $0.status == "Succeeded" }
        }
        #expect(trained, "hour 01 was not trained before its next check (an hour away); log: \(worker.logTail())")
    }

    @Test("update concurrency 4 with slow PATCHes: attempts on one endpoint take turns, deployments only move forward (D14)")
    func concurrentUpdatesTakeTurns() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0", "--fault", "patch:latency=300"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let path = "pipelines/retrain-pipeline.json"
        var pipeline = try String(contentsOf: folder.root.appendingPathComponent(path), encoding: .utf8)
        for (old, new) in [(#""end": "2026-01-02T00:00:00Z""#, #""end": "2026-01-01T08:00:00Z""#),
                           (#""concurrency": 1,"#, #""concurrency": 4,"#)] {
            #expect(pipeline.contains(old))
            pipeline = pipeline.replacingOccurrences(of: old, with: new)
        }
        try folder.write(path, pipeline)
        try folder.writeTrainingSlices(hours: 8)
        let environment = try demoEnvironment(emulator.info)
        let db = folder.database
        for _ in 0..<6 {
            let tick = try await refitOffPool("tick", "--schedules", folder.root.path, "--db", db, environment: environment)
            #expect(tick.exitCode == 0, "stderr: \(tick.stderr.suffix(800))")
        }
        let rows = try JSONDecoder().decode([HistoryRow].self, from: Data(
            try await refitOffPool("history", "--db", db, "--format", "json", environment: environment).stdout.utf8))
        let updates = rows.filter { $0.activity == "UpdateScoringEndpoint" }
        #expect(Set(updates.filter { ["Succeeded", "Skipped"].contains($0.status) }.map(\.windowStart)).count == 8, "history: \(rows)")
        // In the emulator's order, each successful PATCH deploys a newer window than the one before.
        let patched = try await emulator.operations("patch").filter { $0.status == 200 }.compactMap(\.resourceLocation)
        let hours = patched.compactMap { location in (0..<8).first { location.contains(String(format: "20260101%02d", $0)) } }
        #expect(hours.count == patched.count && hours == hours.sorted() && Set(hours).count == hours.count,
                "PATCHes by window hour, in order: \(hours)")
        #expect(hours.last == 7)
        #expect(patched.count == updates.filter { $0.status == "Succeeded" }.count)
    }

    @Test("refit run reloads the definitions on SIGHUP: invalid ones are logged and change nothing, a longer active period is scheduled")
    func reloadOnHangUp() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let path = "pipelines/retrain-pipeline.json"
        let original = try String(contentsOf: folder.root.appendingPathComponent(path), encoding: .utf8)
        let endLine = #""end": "2026-01-02T00:00:00Z""#
        #expect(original.contains(endLine))
        try folder.write(path, original.replacingOccurrences(of: endLine, with: #""end": "2026-01-01T01:00:00Z""#))
        try folder.writeTrainingSlices(hours: 3)
        let environment = try demoEnvironment(emulator.info)
        let db = folder.database
        let worker = try WorkerProcess(arguments: ["--schedules", folder.root.path, "--db", db, "--log-format", "json"],
                                       environment: environment, logFile: folder.root.appendingPathComponent("worker.log"))
        defer { Thread { worker.stop() }.start() }
        func trainedHours() async throws -> Set<String> {
            let out = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            let rows = (try? JSONDecoder().decode([HistoryRow].self, from: Data(out.stdout.utf8))) ?? []
            let trained = Set(rows.filter { $0.activity == "Retrain" && $0.status == "Succeeded" }.map(\.windowStart))
            let updated = Set(rows.filter { $0.activity == "UpdateScoringEndpoint" && ["Succeeded", "Skipped"].contains($0.status) }
                .map(\.windowStart))
            return trained.intersection(updated)
        }
        func waitUntil(_ condition: () async throws -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if try await condition() { return true }
                try await Task.sleep(for: .milliseconds(200))
            }
            return false
        }
        #expect(try await waitUntil { try await trainedHours() == ["2026-01-01T00:00:00Z"] }, "log: \(worker.logTail())")

        // A broken file: the reload is refused, the worker keeps running on what it had.
        try folder.write(path, "{ \"name\": \"RetrainPipeline\", ")
        kill(worker.process.processIdentifier, SIGHUP)
        let log = { (try? String(contentsOf: worker.logFile, encoding: .utf8)) ?? "" }
        #expect(try await waitUntil { log().contains("definitions not reloaded") }, "log: \(worker.logTail())")
        #expect(worker.isRunning)

        // Two more hours: reloaded, scheduled and deployed without a restart.
        try folder.write(path, original.replacingOccurrences(of: endLine, with: #""end": "2026-01-01T03:00:00Z""#))
        kill(worker.process.processIdentifier, SIGHUP)
        let all: Set = ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"]
        #expect(try await waitUntil { try await trainedHours() == all }, "log: \(worker.logTail())")
        #expect(log().contains("\"definitions reloaded\""))
        let status = try await offPool { worker.stop() }
        #expect(status == 0)
    }
}
