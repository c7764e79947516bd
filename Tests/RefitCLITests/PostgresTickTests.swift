import Foundation
import RefitCore
import RefitPostgres
import RefitTestKit
import Testing

/// `refit tick --db postgres://…`: workers in several processes (standing in for several hosts)
/// share one PostgreSQL database.
@Suite("refit tick on PostgreSQL (emulator)", .timeLimit(.minutes(5)))
struct PostgresTickTests {
    @Test("two ticks at once on one PostgreSQL database: every window once, one submit each, deployments only forward; pause, resume, rerun, skip, cancel and backfill")
    func twoTicksShareADatabase() async throws {
        let database = try ScratchPostgresDatabase()
        let url = database.url

        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let pipelinePath = "pipelines/retrain-pipeline.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T06:00:00Z""#))
        try folder.writeTrainingSlices(hours: 6)
        let environment = try demoEnvironment(emulator.info)

        async let first = refitOffPool("tick", "--schedules", folder.root.path, "--db", url, environment: environment)
        async let second = refitOffPool("tick", "--schedules", folder.root.path, "--db", url, environment: environment)
        for tick in try await [first, second] { #expect(tick.exitCode == 0, "stderr: \(tick.stderr)") }

        let c = try PostgresConnection(url: url)
        let windows = try c.query("SELECT activity, state, count(*) AS n FROM windows GROUP BY 1, 2 ORDER BY 1, 2")
            .map { "\($0.string("activity") ?? "")=\($0.string("state") ?? ""):\($0.int("n") ?? 0)" }
        #expect(windows.contains("Retrain=Ready:6"), "\(windows)")
        // Every window ran exactly once (one attempt each, whichever process claimed it).
        let perWindow = try c.query("SELECT window_id, count(*) AS n FROM runs GROUP BY 1").compactMap { $0.int("n") }
        #expect(perWindow.count == 12 && perWindow.allSatisfy { $0 == 1 })
        #expect(try await emulator.operations("submit").count == 6)
        // Deployments only move forward, and the newest window's model serves.
        let deployed = try c.query("SELECT model_window_start FROM deployments ORDER BY id").compactMap { $0.instant("model_window_start") }
        #expect(deployed == deployed.sorted() && !deployed.isEmpty)
        #expect(deployed.last?.iso8601 == "2026-01-01T05:00:00Z")

        // Pause and resume reach every worker through the database, audited.
        let pause = try await refitOffPool("pause", "--schedules", folder.root.path, "--db", url, "RetrainPipeline",
                                           "--reason", "maintenance", "--actor", "alice", environment: environment)
        #expect(pause.exitCode == 0, "stderr: \(pause.stderr)")
        #expect(try c.query("SELECT paused FROM pipeline_controls WHERE pipeline = 'RetrainPipeline'").first?.int("paused") == 1)
        let terminate = try await refitOffPool("pause", "--schedules", folder.root.path, "--db", url, "RetrainPipeline", "--terminate",
                                               environment: environment)
        #expect(terminate.exitCode == 0 && terminate.stdout.contains("0 running attempts"), "stdout: \(terminate.stdout)")
        // Cancel finds a run by a unique prefix; an ended one is refused with one sentence.
        let someRun = try #require(try c.query("SELECT run_id FROM runs ORDER BY seq LIMIT 1").first?.string("run_id"))
        let cancel = try await refitOffPool("cancel", "--db", url, String(someRun.prefix(12)), environment: environment)
        #expect(cancel.exitCode == 1 && cancel.stderr.contains("is not running"), "stderr: \(cancel.stderr)")
        let resume = try await refitOffPool("resume", "--schedules", folder.root.path, "--db", url, "RetrainPipeline",
                                            environment: environment)
        #expect(resume.exitCode == 0, "stderr: \(resume.stderr)")
        #expect(try c.query("SELECT paused FROM pipeline_controls WHERE pipeline = 'RetrainPipeline'").first?.int("paused") == 0)
        let controls = try c.query("SELECT kind, detail FROM events WHERE kind IN ('pipelinePaused', 'pipelineResumed') ORDER BY id")
        #expect(controls.compactMap { $0.string("kind") } == ["pipelinePaused", "pipelinePaused", "pipelineResumed"])
        #expect(controls.first?.string("detail")?.contains("\"actor\":\"alice\"") == true)

        // Rerun and skip go through the same OperatorStore.
        let window = "2026-01-01T05:00:00Z"
        let rerun = try await refitOffPool("rerun", "--schedules", folder.root.path, "--db", url, "--pipeline", "RetrainPipeline",
                                           "--activity", "Retrain", "--window", window, "--only", "--reason", "fixed data",
                                           environment: environment)
        #expect(rerun.exitCode == 0, "stderr: \(rerun.stderr)")
        let state = "SELECT state, next_trigger FROM windows WHERE activity = 'Retrain' AND window_start = '\(window)'"
        #expect(try c.query(state).first.map { "\($0.string("state") ?? "")/\($0.string("next_trigger") ?? "")" } == "Waiting/rerun")
        let skip = try await refitOffPool("skip", "--schedules", folder.root.path, "--db", url, "--pipeline", "RetrainPipeline",
                                          "--activity", "Retrain", "--window", window, "--reason", "not needed",
                                          environment: environment)
        #expect(skip.exitCode == 0, "stderr: \(skip.stderr)")
        #expect(try c.query(state).first?.string("state") == "Skipped")

        // A backfill of two Retrain windows, worked on in this process until done.
        let backfill = try await refitOffPool("backfill", "--schedules", folder.root.path, "--db", url, "--pipeline", "RetrainPipeline",
                                              "--activity", "Retrain", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T02:00:00Z",
                                              "--mode", "all", "--wait", "--reason", "re-train", environment: environment)
        #expect(backfill.exitCode == 0, "stderr: \(backfill.stderr)")
        // Hours 0 and 1 ran once more each; the other windows were left alone.
        let attempts = try c.query("""
            SELECT w.window_start, count(*) AS n FROM runs r JOIN windows w ON w.id = r.window_id
            WHERE w.activity = 'Retrain' AND r.status = 'Succeeded' GROUP BY 1 ORDER BY 1
            """).compactMap { $0.int("n") }
        #expect(attempts == [2, 2, 1, 1, 1, 1], "\(attempts)")

        // Rollback on PostgreSQL: the 02:00 model serves again, recorded as a forced deployment.
        let rollback = try await refitOffPool("rollback", "--schedules", folder.root.path, "--db", url, "--pipeline", "RetrainPipeline",
                                              "--activity", "UpdateScoringEndpoint", "--to", "2026-01-01T02:00:00Z",
                                              "--reason", "bad model", "--actor", "ops", environment: environment)
        #expect(rollback.exitCode == 0, "stderr: \(rollback.stderr)")
        let last = try #require(try c.query("SELECT model_window_start, forced, reason FROM deployments ORDER BY id DESC LIMIT 1").first)
        #expect(last.instant("model_window_start")?.iso8601 == "2026-01-01T02:00:00Z" && last.int("forced") == 1
                && last.string("reason") == "rollback", "last deployment: \(last)")
        let events = try c.query("SELECT kind FROM events WHERE kind IN ('rollbackStarted', 'rolledBack') ORDER BY id").compactMap { $0.string("kind") }
        #expect(events == ["rollbackStarted", "rolledBack"], "\(events)")
        let never = try await refitOffPool("rollback", "--schedules", folder.root.path, "--db", url, "--pipeline", "RetrainPipeline",
                                           "--activity", "UpdateScoringEndpoint", "--to", "2026-01-01T09:00:00Z", "--reason", "x",
                                           environment: environment)
        #expect(never.exitCode == 1, "stderr: \(never.stderr)")

        // The report reads PostgreSQL too (PostgresReadCommandTests compares it with SQLite's).
        let report = try await refitOffPool("report", "--db", url, "--out", folder.root.appendingPathComponent("report.html").path,
                                           "--format", "json", environment: environment)
        #expect(report.exitCode == 0, "stderr: \(report.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        #expect(summary?["empty"] is NSNull && (summary?["windows"] as? Int ?? 0) > 0, "stdout: \(report.stdout)")
    }

    @Test("an unreachable server: exit 3 and one sentence naming it without its password")
    func unreachableServer() async throws {
        let tick = try await refitOffPool("tick", "--schedules", "schedules", "--db", "postgres://refit:hunter2@127.0.0.1:1/refit",
                                          environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
        #expect(tick.exitCode == 3)
        let last = tick.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("Could not connect to PostgreSQL at postgres://refit@127.0.0.1:1/refit: "), "stderr: \(tick.stderr)")
        #expect(!tick.stderr.contains("hunter2"))
    }
}
