import Foundation
import Testing
import RefitTestKit

/// `refit cancel` from another process stops an attempt that a running `refit run` owns: the
/// worker notices within about a second, DELETEs the batch job, and records Canceled.
@Suite("refit cancel (emulator)", .timeLimit(.minutes(3)))
struct CancelCommandTests {
    @Test("cancel from another process: the job is DELETEd, the attempt and window end Canceled")
    func cancelFromAnotherProcess() async throws {
        // Jobs take a minute: the attempt is surely running when the cancel comes.
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "60"])
        defer { emulator.stop() }
        let folder = try Self.schedules(hours: 1)
        defer { folder.remove() }
        let environment = try demoEnvironment(emulator.info)
        let db = folder.database
        let worker = try Self.startWorker(folder, environment: environment)
        defer { if worker.isRunning { worker.terminate(); _ = ChildExit.wait(for: worker, timeout: .seconds(30)) } }

        // Wait for the retrain attempt to have its job started.
        var running: HistoryRow?
        let deadline = ContinuousClock.now + .seconds(60)
        while running == nil && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let history = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            let rows = (try? JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))) ?? []
            running = rows.first { $0.activity == "Retrain" && $0.status == "InProgress" && $0.externalJobId != nil }
        }
        let attempt = try #require(running, "no retrain attempt started its job")
        let job = try #require(attempt.externalJobId)
        // Let the worker get to polling the job before it is canceled.
        while try await emulator.operations("start").isEmpty { try await Task.sleep(for: .milliseconds(100)) }

        let cancel = try await refitOffPool("cancel", String(attempt.runId.prefix(12)), "--db", db, "--reason", "wrong data",
                                            "--actor", "alice", environment: environment)
        #expect(cancel.exitCode == 0, "stderr: \(cancel.stderr)")

        var ended: HistoryRow?
        let stopBy = ContinuousClock.now + .seconds(20)
        while ended == nil && ContinuousClock.now < stopBy {
            try await Task.sleep(for: .milliseconds(200))
            let history = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            let rows = (try? JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))) ?? []
            ended = rows.first { $0.runId == attempt.runId && $0.status != "InProgress" }
        }
        let result = try #require(ended, "the attempt was not canceled")
        #expect(result.status == "Canceled" && result.error?.contains("alice") == true, "run: \(result)")
        #expect(try await emulator.operations("delete").contains { $0.jobId == job }, "the batch job was DELETEd")
        let slices = try await refitOffPool("slices", "--db", db, "--format", "json", "--pipeline", "RetrainPipeline",
                                            environment: environment)
        let windows = (try? JSONDecoder().decode([SliceRow].self, from: Data(slices.stdout.utf8))) ?? []
        let window = windows.first { $0.kind == "window" && $0.activity == "Retrain" }
        #expect(window?.status == "Failed" && window?.substatus == "Canceled", "window: \(String(describing: window))")

        // A second cancel, or one of an unknown run, is one sentence and exit 1.
        let again = try await refitOffPool("cancel", attempt.runId, "--db", db, environment: environment)
        #expect(again.exitCode == 1 && again.stderr.contains("not running"), "stderr: \(again.stderr)")
        let unknown = try await refitOffPool("cancel", "nope", "--db", db, environment: environment)
        #expect(unknown.exitCode == 1 && unknown.stderr.contains("No run"), "stderr: \(unknown.stderr)")
    }

    @Test("pause --terminate: the running attempt is canceled and its job DELETEd; nothing new starts until resume")
    func pauseTerminate() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "60"])
        defer { emulator.stop() }
        let folder = try Self.schedules(hours: 2)
        defer { folder.remove() }
        let environment = try demoEnvironment(emulator.info)
        let db = folder.database
        let worker = try Self.startWorker(folder, environment: environment)
        defer { if worker.isRunning { worker.terminate(); _ = ChildExit.wait(for: worker, timeout: .seconds(30)) } }

        var running: [HistoryRow] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while running.isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let history = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            let rows = (try? JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))) ?? []
            running = rows.filter { $0.activity == "Retrain" && $0.status == "InProgress" && $0.externalJobId != nil }
        }
        #expect(!running.isEmpty, "no retrain attempt started its job")
        while try await emulator.operations("start").count < running.count { try await Task.sleep(for: .milliseconds(100)) }

        let pause = try await refitOffPool("pause", "RetrainPipeline", "--terminate", "--schedules", folder.root.path, "--db", db,
                                           "--reason", "bad data upstream", environment: environment)
        #expect(pause.exitCode == 0, "stderr: \(pause.stderr)")
        var rows: [HistoryRow] = []
        let stopBy = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < stopBy {
            try await Task.sleep(for: .milliseconds(200))
            let history = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            rows = (try? JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))) ?? []
            if !rows.contains(where: { $0.status == "InProgress" }) { break }
        }
        let ended = rows.filter { row in running.contains { $0.runId == row.runId } }
        #expect(ended.count == running.count && ended.allSatisfy { $0.status == "Canceled" }, "history: \(rows)")
        let deleted = try await emulator.operations("delete").compactMap(\.jobId)
        #expect(running.allSatisfy { deleted.contains($0.externalJobId ?? "") }, "every canceled job was DELETEd")
        // Paused: nothing new starts.
        try await Task.sleep(for: .seconds(2))
        let after = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
        let later = (try? JSONDecoder().decode([HistoryRow].self, from: Data(after.stdout.utf8))) ?? []
        #expect(later.count == rows.count, "no attempt started while paused: \(later)")
    }

    /// The example schedules cut to `hours` hourly windows, with their training slices.
    static func schedules(hours: Int) throws -> ScratchSchedules {
        let folder = try ScratchSchedules.example()
        let pipelinePath = "pipelines/retrain-pipeline.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try folder.write(pipelinePath, pipeline.replacingOccurrences(
            of: #""end": "2026-01-02T00:00:00Z""#, with: #""end": "2026-01-01T0\#(hours):00:00Z""#))
        try folder.writeTrainingSlices(hours: hours)
        return folder
    }

    /// A `refit run` on `folder`, its output discarded.
    static func startWorker(_ folder: ScratchSchedules, environment: [String: String]) throws -> Process {
        let worker = Process()
        worker.executableURL = BuiltProducts.executable("refit")
        worker.arguments = ["run", "--schedules", folder.root.path, "--db", folder.database]
        worker.environment = environment
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        try worker.run()
        return worker
    }
}
