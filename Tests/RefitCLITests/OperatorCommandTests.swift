import Foundation
import Testing
import RefitTestKit

/// `refit rerun`, `skip`, `pause` and `resume` against the real `refit` and `refit-mlsim`.
@Suite("refit rerun, skip, pause, resume (emulator)", .timeLimit(.minutes(5)))
struct OperatorCommandTests {
    /// The parts of `refit status --format json` these tests read.
    struct StatusDocument: Decodable {
        struct Pipeline: Decodable {
            struct Pause: Decodable { var by: String; var actor: String?; var reason: String? }
            var pipeline: String
            var paused: Bool
            var pause: Pause?
        }
        var pipelines: [Pipeline]
    }

    @Test("rerun with and without --only, skip keeps consumers waiting, pause stops claims until resume")
    func rerunSkipPauseResume() async throws {
        let fixture = try await OperatorFixture.start(hours: 3, start: "2026-01-01T00:00:00Z", end: "2026-01-01T03:00:00Z")
        defer { fixture.stop() }
        #expect(try await fixture.tick().exitCode == 0)
        let updateBefore = try #require(try await fixture.window("UpdateScoringEndpoint", "2026-01-01T01:00:00Z"))

        // --only: just the named window.
        let only = try await fixture.refitWithDefinitions("rerun", "--pipeline", "RetrainPipeline", "--activity", "Retrain",
                                                          "--window", "2026-01-01T01:00:00Z", "--only", "--reason", "bad data")
        #expect(only.exitCode == 0, "stderr: \(only.stderr)")
        #expect(only.stdout.split(separator: "\n").count == 1, "stdout: \(only.stdout)")
        #expect(try await fixture.window("Retrain", "2026-01-01T01:00:00Z")?.status == "Waiting")
        #expect(try await fixture.window("UpdateScoringEndpoint", "2026-01-01T01:00:00Z")?.status == updateBefore.status)
        #expect(try await fixture.tick().exitCode == 0)
        #expect(try await fixture.window("Retrain", "2026-01-01T01:00:00Z")?.status == "Ready")
        #expect(try await fixture.history().contains { $0.activity == "Retrain" && $0.windowStart == "2026-01-01T01:00:00Z" && $0.trigger == "rerun" })

        // Without --only: the range and every window downstream of it.
        let downstream = try await fixture.refitWithDefinitions("rerun", "--pipeline", "RetrainPipeline", "--activity", "Retrain",
                                                                "--window", "2026-01-01T00:00:00Z", "--to", "2026-01-01T02:00:00Z")
        #expect(downstream.exitCode == 0, "stderr: \(downstream.stderr)")
        #expect(downstream.stdout.split(separator: "\n").count == 4, "stdout: \(downstream.stdout)")
        for activity in ["Retrain", "UpdateScoringEndpoint"] {
            for hour in ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"] {
                #expect(try await fixture.window(activity, hour)?.status == "Waiting", "\(activity)@\(hour)")
            }
        }

        // Skip: the consumer of a skipped window keeps waiting.
        let skip = try await fixture.refitWithDefinitions("skip", "--pipeline", "RetrainPipeline", "--activity", "Retrain",
                                                          "--window", "2026-01-01T01:00:00Z", "--reason", "corrupt slice")
        #expect(skip.exitCode == 0, "stderr: \(skip.stderr)")
        #expect(try await fixture.window("Retrain", "2026-01-01T01:00:00Z")?.status == "Skipped")

        // Pause: nothing starts; the status says who paused it and why.
        let pause = try await fixture.refitWithDefinitions("pause", "RetrainPipeline", "--reason", "maintenance", "--actor", "bob")
        #expect(pause.exitCode == 0, "stderr: \(pause.stderr)")
        let status = try await fixture.refitWithDefinitions("status", "--format", "json")
        let document = try JSONDecoder().decode(StatusDocument.self, from: Data(status.stdout.utf8))
        let pipeline = try #require(document.pipelines.first)
        #expect(pipeline.paused && pipeline.pause?.by == "operator" && pipeline.pause?.reason == "maintenance" && pipeline.pause?.actor == "bob",
                "status: \(status.stdout)")
        let paused = try await fixture.tick()
        #expect(paused.stderr.contains("0 attempts started"), "stderr: \(paused.stderr)")
        #expect(try await fixture.window("Retrain", "2026-01-01T00:00:00Z")?.status == "Waiting")

        // `--pipeline`, as the other commands take it, works too; the two forms must agree.
        let twoNames = try await fixture.refitWithDefinitions("resume", "RetrainPipeline", "--pipeline", "Other")
        #expect(twoNames.exitCode == 2 && twoNames.stderr.contains("Two pipelines given"), "stderr: \(twoNames.stderr)")
        let noName = try await fixture.refitWithDefinitions("resume")
        #expect(noName.exitCode == 2 && noName.stderr.contains("Missing the pipeline"), "stderr: \(noName.stderr)")
        #expect(try await fixture.tick().stderr.contains("0 attempts started"))
        let resume = try await fixture.refitWithDefinitions("resume", "--pipeline", "RetrainPipeline")
        #expect(resume.exitCode == 0, "stderr: \(resume.stderr)")
        #expect(try await fixture.tick().exitCode == 0)
        #expect(try await fixture.window("Retrain", "2026-01-01T00:00:00Z")?.status == "Ready")
        #expect(["Ready", "Skipped"].contains(try await fixture.window("UpdateScoringEndpoint", "2026-01-01T00:00:00Z")?.status ?? ""))
        let blocked = try await fixture.window("UpdateScoringEndpoint", "2026-01-01T01:00:00Z")
        #expect(blocked?.status == "Waiting" && blocked?.substatus == "DatasetDependencies", "consumer of a skipped window: \(String(describing: blocked))")
    }

    @Test("bad operator input: one sentence, the documented exit code, nothing changed")
    func badInput() async throws {
        let fixture = try await OperatorFixture.start(hours: 2, start: "2026-01-01T00:00:00Z", end: "2026-01-01T02:00:00Z")
        defer { fixture.stop() }
        #expect(try await fixture.tick().exitCode == 0)
        let before = try await fixture.snapshot()
        func rerun(_ arguments: String...) async throws -> ProcessResult {
            let all = ["rerun", "--schedules", fixture.folder.root.path, "--db", fixture.folder.database] + arguments
            let environment = fixture.environment
            return try await offPool {
                try runProcess(BuiltProducts.executable("refit"), all, environment: environment, currentDirectory: BuiltProducts.packageRoot)
            }
        }
        expectRefused(try await rerun("--pipeline", "Nope", "--activity", "Retrain", "--window", "2026-01-01T00:00:00Z"),
                      code: 1, containing: "No pipeline named 'Nope'")
        expectRefused(try await rerun("--pipeline", "RetrainPipeline", "--activity", "Nope", "--window", "2026-01-01T00:00:00Z"),
                      code: 1, containing: "no activity named 'Nope'")
        expectRefused(try await rerun("--pipeline", "RetrainPipeline", "--activity", "Retrain", "--window", "2026-01-01T00:00:00"),
                      code: 1, containing: "has no time zone")
        expectRefused(try await rerun("--pipeline", "RetrainPipeline", "--activity", "Retrain", "--window", "2026-01-01T00:30:00Z"),
                      code: 1, containing: "is not the start of a window")
        expectRefused(try await rerun("--pipeline", "RetrainPipeline", "--activity", "Retrain", "--window", "2026-01-01T05:00:00Z"),
                      code: 1, containing: "active period")
        expectRefused(try await rerun("--pipeline", "RetrainPipeline", "--activity", "Retrain", "--window", "2026-01-01T01:00:00Z",
                                      "--to", "2026-01-01T00:00:00Z"), code: 1, containing: "must be after")
        expectRefused(try await rerun("--pipeline", "RetrainPipeline", "--activity", "Retrain", "--window", "2026-01-01T25:00:00Z"),
                      code: 1, containing: "out of range")
        expectRefused(try await rerun("--pipeline", "RetrainPipeline", "--activity", "Retrain", "--window", "soon"),
                      code: 2, containing: "not an ISO 8601 time")
        expectRefused(try await fixture.refitWithDefinitions("pause", "Nope"), code: 1, containing: "No pipeline named 'Nope'")
        let noReason = try await fixture.refitWithDefinitions("skip", "--pipeline", "RetrainPipeline", "--activity", "Retrain",
                                                              "--window", "2026-01-01T00:00:00Z")
        #expect(noReason.exitCode == 2 && noReason.stderr.contains("--reason is required"), "stderr: \(noReason.stderr)")
        expectRefused(try await fixture.refitWithDefinitions("lineage", "--run", "no-such-run"), code: 1, containing: "No run with id")
        #expect(try await fixture.snapshot() == before, "refusals change nothing")
    }

    @Test("rerun and skip of an InProgress window are refused and change nothing")
    func inProgressRefused() async throws {
        let fixture = try await OperatorFixture.start(hours: 1, start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z",
                                                      emulatorArguments: ["--job-duration", "60"])
        defer { fixture.stop() }
        let worker = Process()
        worker.executableURL = BuiltProducts.executable("refit")
        worker.arguments = ["run", "--schedules", fixture.folder.root.path, "--db", fixture.folder.database]
        worker.environment = fixture.environment
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        try worker.run()
        defer { kill(worker.processIdentifier, SIGKILL); worker.waitUntilExit() }
        var running = false
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? await fixture.window("Retrain", "2026-01-01T00:00:00Z"))?.status == "InProgress" { running = true; break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(running, "the window never started")
        let rerun = try await fixture.refitWithDefinitions("rerun", "--pipeline", "RetrainPipeline", "--activity", "Retrain",
                                                           "--window", "2026-01-01T00:00:00Z")
        expectRefused(rerun, code: 1, containing: "is InProgress")
        let skip = try await fixture.refitWithDefinitions("skip", "--pipeline", "RetrainPipeline", "--activity", "Retrain",
                                                          "--window", "2026-01-01T00:00:00Z", "--reason", "no")
        expectRefused(skip, code: 1, containing: "is InProgress")
        let window = try await fixture.window("Retrain", "2026-01-01T00:00:00Z")
        #expect(window?.status == "InProgress" && window?.attempts == 1, "window: \(String(describing: window))")
        #expect(try await fixture.history().allSatisfy { $0.trigger != "rerun" })
    }
}
