import Foundation
import Testing
import RefitTestKit

/// `refit backfill` and `refit backfills` against the real `refit` and `refit-mlsim`.
@Suite("refit backfill (emulator)", .timeLimit(.minutes(5)))
struct BackfillCommandTests {
    /// One element of `refit backfill --dry-run --format json`.
    struct DryRunRow: Decodable, Hashable {
        var activity: String
        var windowStart: String
        var windowEnd: String
        var state: String
    }

    /// One row of `refit backfills --format json`.
    struct BackfillRow: Decodable {
        var id: Int
        var pipeline: String
        var mode: String
        var order: String
        var total: Int
        var done: Int
        var failed: Int
        var running: Int
        var waiting: Int
        var actor: String
        var reason: String?
    }

    @Test("moving start earlier creates nothing; a backfill creates exactly the older windows, runs them with --wait and exits 0")
    func startMovedEarlier() async throws {
        let fixture = try await OperatorFixture.start(hours: 6, start: "2026-01-01T03:00:00Z", end: "2026-01-01T06:00:00Z")
        defer { fixture.stop() }
        #expect(try await fixture.tick().exitCode == 0)
        try fixture.setPeriod(start: "2026-01-01T00:00:00Z", end: "2026-01-01T06:00:00Z")
        let again = try await fixture.tick()
        #expect(again.exitCode == 0 && again.stderr.contains("0 windows created"), "stderr: \(again.stderr)")
        #expect(try await fixture.slices().filter { $0.kind == "window" }.count == 6, "only the 3 hours × 2 activities of the first period")

        // The dry run lists the six older windows, none created yet, and changes nothing.
        let before = try await fixture.snapshot()
        let dry = try await fixture.refitWithDefinitions("backfill", "--pipeline", "RetrainPipeline", "--from", "2026-01-01T00:00:00Z",
                                                         "--to", "2026-01-01T03:00:00Z", "--dry-run", "--format", "json")
        #expect(dry.exitCode == 0, "stderr: \(dry.stderr)")
        let planned = try JSONDecoder().decode([DryRunRow].self, from: Data(dry.stdout.utf8))
        #expect(planned.count == 6 && planned.allSatisfy { $0.state == "None" }, "dry run: \(planned)")
        #expect(Set(planned.map(\.windowStart)) == ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"])
        #expect(planned.contains(DryRunRow(activity: "Retrain", windowStart: "2026-01-01T00:00:00Z", windowEnd: "2026-01-01T01:00:00Z",
                                           state: "None")))
        #expect(try await fixture.snapshot() == before, "a dry run changes nothing")

        // --wait runs it here; not a terminal, so plain progress lines, then the summary.
        let wait = try await fixture.refitWithDefinitions("backfill", "--pipeline", "RetrainPipeline", "--from", "2026-01-01T00:00:00Z",
                                                          "--to", "2026-01-01T03:00:00Z", "--wait", "--reason", "start moved earlier",
                                                          "--actor", "alice")
        #expect(wait.exitCode == 0, "stdout: \(wait.stdout) stderr: \(wait.stderr)")
        #expect(wait.stdout.contains("backfill 1: 6 windows"), "stdout: \(wait.stdout)")
        #expect(wait.stderr.contains("backfill 1: ") && wait.stderr.contains("/6 done"), "progress line: \(wait.stderr)")
        #expect(wait.stderr.contains("backfill 1 finished"), "summary: \(wait.stderr)")
        #expect(!wait.stderr.contains("\r"), "no redrawn bar when stderr is not a terminal")

        let windows = try await fixture.slices().filter { $0.kind == "window" }
        #expect(windows.count == 12, "windows: \(windows)")
        #expect(windows.allSatisfy { ["Ready", "Skipped"].contains($0.status) }, "windows: \(windows)")
        // D14: the older update windows did not displace the newer serving model.
        let olderUpdates = windows.filter { $0.activity == "UpdateScoringEndpoint" && $0.sliceStart < "2026-01-01T03:00:00Z" }
        #expect(olderUpdates.allSatisfy { $0.status == "Skipped" && $0.substatus == "Superseded" }, "updates: \(olderUpdates)")
        let retrains = try await fixture.history().filter { $0.activity == "Retrain" && $0.windowStart < "2026-01-01T03:00:00Z" }
        #expect(retrains.count == 3 && retrains.allSatisfy { $0.trigger == "backfill" && $0.status == "Succeeded" }, "runs: \(retrains)")

        let list = try await fixture.refitDatabase("backfills", "--format", "json")
        let rows = try JSONDecoder().decode([BackfillRow].self, from: Data(list.stdout.utf8))
        #expect(rows.count == 1)
        #expect(rows.first.map { [$0.id, $0.total, $0.done, $0.failed, $0.running, $0.waiting] } == [1, 6, 6, 0, 0, 0])
        #expect(rows.first?.actor == "alice" && rows.first?.reason == "start moved earlier" && rows.first?.mode == "missing")
        #expect(rows.first?.order == "OldestFirst")
        let csv = try await fixture.refitDatabase("backfills", "--format", "csv")
        #expect(csv.stdout.hasPrefix("id,pipeline,activities,from,to,mode,order,total,done,failed,running,waiting,actor,reason,createdAt"))

        // Nothing missing any more: a missing-mode dry run is empty; mode all would run every window again.
        let none = try await fixture.refitWithDefinitions("backfill", "--pipeline", "RetrainPipeline", "--from", "2026-01-01T00:00:00Z",
                                                          "--to", "2026-01-01T03:00:00Z", "--dry-run", "--format", "json")
        #expect(try JSONDecoder().decode([DryRunRow].self, from: Data(none.stdout.utf8)).isEmpty)
        let all = try await fixture.refitWithDefinitions("backfill", "--pipeline", "RetrainPipeline", "--from", "2026-01-01T00:00:00Z",
                                                         "--to", "2026-01-01T03:00:00Z", "--mode", "all", "--activity", "Retrain",
                                                         "--dry-run", "--format", "json")
        let allRows = try JSONDecoder().decode([DryRunRow].self, from: Data(all.stdout.utf8))
        #expect(allRows.count == 3 && allRows.allSatisfy { $0.activity == "Retrain" && $0.state == "Ready" }, "rows: \(allRows)")
    }

    @Test("a backfill whose window ends Failed exits 4 with the failure in its summary")
    func failedWindowExitsFour() async throws {
        let fixture = try await OperatorFixture.start(hours: 1, start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z")
        defer { fixture.stop() }
        // Retrain's policy allows 3 attempts; every job fails.
        try await fixture.emulator.setFaults(#"{"plans": [], "failJobs": 10}"#)
        let wait = try await fixture.refitWithDefinitions("backfill", "--pipeline", "RetrainPipeline", "--activity", "Retrain",
                                                          "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T01:00:00Z", "--wait")
        #expect(wait.exitCode == 4, "stdout: \(wait.stdout) stderr: \(wait.stderr)")
        #expect(wait.stderr.contains("1 Failed"), "summary: \(wait.stderr)")
        let list = try await fixture.refitDatabase("backfills", "--format", "json")
        let rows = try JSONDecoder().decode([BackfillRow].self, from: Data(list.stdout.utf8))
        #expect(rows.first.map { [$0.total, $0.done, $0.failed] } == [1, 0, 1])
    }

    @Test("SIGTERM stops backfill --wait like refit run: running attempts finish, the summary says interrupted, exit 4")
    func interruptedWait() async throws {
        let fixture = try await OperatorFixture.start(hours: 3, start: "2026-01-01T00:00:00Z", end: "2026-01-01T03:00:00Z",
                                                      emulatorArguments: ["--job-duration", "4"])
        defer { fixture.stop() }
        let errors = fixture.folder.root.appendingPathComponent("backfill.err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = BuiltProducts.executable("refit")
        process.arguments = ["backfill", "--schedules", fixture.folder.root.path, "--db", fixture.folder.database,
                             "--pipeline", "RetrainPipeline", "--from", "2026-01-01", "--to", "2026-01-01T03:00:00Z", "--wait"]
        process.environment = fixture.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        try launchProcess(process)
        let log = { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, log().range(of: #"[1-9] running"#, options: .regularExpression) == nil {
            try await Task.sleep(for: .milliseconds(200))
        }
        process.terminate()
        let status = try await offPool { ChildExit.wait(for: process, timeout: .seconds(60)) }
        #expect(status == 4, "stderr: \(log())")
        #expect(log().contains("backfill 1 interrupted"), "stderr: \(log())")
        let windows = try await fixture.slices().filter { $0.kind == "window" }
        #expect(!windows.contains { $0.status == "InProgress" }, "running attempts finished or were given back: \(windows)")
    }

    @Test("bad backfill input: one sentence, the documented exit code, nothing changed")
    func badInput() async throws {
        let fixture = try await OperatorFixture.start(hours: 2, start: "2026-01-01T00:00:00Z", end: "2026-01-01T02:00:00Z")
        defer { fixture.stop() }
        #expect(try await fixture.tick().exitCode == 0)
        let before = try await fixture.snapshot()
        func backfill(_ arguments: String...) async throws -> ProcessResult {
            let all = ["backfill", "--schedules", fixture.folder.root.path, "--db", fixture.folder.database] + arguments
            let environment = fixture.environment
            return try await offPool {
                try runProcess(BuiltProducts.executable("refit"), all, environment: environment, currentDirectory: BuiltProducts.packageRoot)
            }
        }
        expectRefused(try await backfill("--pipeline", "RetrainPipeline", "--from", "2025-12-31T00:00:00Z", "--to", "2026-01-01T01:00:00Z"),
                      code: 1, containing: "(2026-01-01T00:00:00Z to 2026-01-01T02:00:00Z)")
        expectRefused(try await backfill("--pipeline", "Nope", "--from", "2026-01-01", "--to", "2026-01-01T01:00:00Z"),
                      code: 1, containing: "No pipeline named 'Nope'")
        expectRefused(try await backfill("--pipeline", "RetrainPipeline", "--activity", "Nope", "--from", "2026-01-01",
                                         "--to", "2026-01-01T01:00:00Z"), code: 1, containing: "no activity named 'Nope'")
        expectRefused(try await backfill("--pipeline", "RetrainPipeline", "--from", "2026-01-01T00:00:00", "--to", "2026-01-01T01:00:00Z"),
                      code: 1, containing: "has no time zone")
        expectRefused(try await backfill("--pipeline", "RetrainPipeline", "--from", "2026-01-01T01:00:00Z", "--to", "2026-01-01T00:00:00Z"),
                      code: 1, containing: "must be after")
        expectRefused(try await backfill("--pipeline", "RetrainPipeline", "--from", "2026-02-30", "--to", "2026-03-01"),
                      code: 1, containing: "out of range")
        expectRefused(try await backfill("--pipeline", "RetrainPipeline", "--from", "yesterday", "--to", "2026-01-01T01:00:00Z"),
                      code: 2, containing: "not an ISO 8601 time")
        #expect(try await fixture.snapshot() == before, "refusals change nothing")
    }
}
