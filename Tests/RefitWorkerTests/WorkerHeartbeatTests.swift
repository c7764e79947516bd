import Foundation
import RefitCore
import RefitStore
import RefitTestKit
import RefitWorker
import Testing

/// `refit run`'s place in the worker registry: it registers when it starts, heartbeats at most
/// once per heartbeat interval (here the one-minute lease renewal interval) however often its
/// loop wakes, and says it stopped when it ends gracefully.
@Suite("Worker registry heartbeats")
struct WorkerHeartbeatTests {
    /// Polls until `condition` holds; the worker runs on other tasks. The two-minute guard only
    /// keeps a failure from hanging: a parallel test run on 2 cores can starve the worker's tasks
    /// for many seconds, so the guard is real time, not a count of polls.
    func eventually(_ condition: () async throws -> Bool) async throws {
        let guardUntil = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < guardUntil {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("condition not reached")
    }

    @Test("an idle worker registers, heartbeats once per interval while its loop polls every second, and is marked stopped")
    func idleHeartbeats() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let registry = SQLiteSchedulingStore(store)
        let start = t("2026-01-02T00:00:00Z")
        let clock = ManualWallClock(start)
        // Every window ended a day ago: the worker has nothing to do but sleep and poll.
        let factory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("P", [TestDefinitions.activity("Job", outputs: ["Out"])],
                                                 start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z")])
        let worker = makeWorker(factory, store: store, runner: ScriptedRunner(), clock: clock, id: "host-a:4242:99-abc")
        let loop = Task { await worker.run() }
        try await eventually { try await registry.registeredWorkers().first?.lastHeartbeatAt == start }
        let registered = try #require(try await registry.registeredWorkers().first)
        #expect(registered.workerID == "host-a:4242:99-abc" && registered.host == "host-a" && registered.pid == 4242)
        #expect(registered.command == .run && registered.heartbeatInterval == .minutes(1) && registered.startedAt == start)

        // Fifty-nine seconds of one-second polls write no heartbeat; the sixtieth does.
        for second in 1...59 {
            clock.set(start + TimeSpan(seconds: Int64(second)))
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(try await registry.registeredWorkers().first?.lastHeartbeatAt == start)
        // From the sixtieth second on, a poll writes one. The clock keeps moving a second per
        // look: a poll that read the time just before it reached a minute sleeps until the next
        // second, so a clock stopped at exactly one minute could wait forever.
        var second: Int64 = 60
        try await eventually {
            clock.set(start + TimeSpan(seconds: second))
            second = min(second + 1, 90)
            guard let beat = try await registry.registeredWorkers().first?.lastHeartbeatAt else { return false }
            return beat > start
        }
        let beat = try #require(try await registry.registeredWorkers().first?.lastHeartbeatAt)
        #expect(beat >= start + .minutes(1) && beat <= start + TimeSpan(seconds: 90))

        await worker.stop()
        await loop.value
        let stopped = try #require(try await registry.registeredWorkers().first)
        #expect(stopped.stoppedAt != nil && stopped.state(at: clock.now()) == .stopped)
    }

    @Test("a tick registers before its first claim and ends stopped; a tick with nothing to do writes no row")
    func tickRegistersBeforeItsFirstClaim() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let registry = SQLiteSchedulingStore(store)
        let clock = ManualWallClock(t("2026-01-01T03:00:00Z"))
        let factory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("P", [TestDefinitions.activity("Job", outputs: ["Out"])],
                                                 start: "2026-01-01T00:00:00Z", end: "2026-01-01T02:00:00Z")])
        let runner = ScriptedRunner()

        // The first tick runs both windows: its row is written before the first claim.
        let first = makeWorker(factory, store: store, runner: runner, clock: clock, id: "host-a:10:1-aa")
        await first.register(as: .tick, timing: .beforeFirstClaim)
        #expect(try await registry.registeredWorkers().isEmpty)
        let report = try await first.tickUntilIdle()
        #expect(report.started.count == 2)
        #expect(try await registry.registeredWorkers().map(\.workerID) == ["host-a:10:1-aa"])
        await first.markStopped()
        let stopped = try #require(try await registry.registeredWorkers().first)
        #expect(stopped.command == .tick && stopped.stoppedAt != nil)

        // The second finds nothing to do: no row of its own, before or after it stops.
        let second = makeWorker(factory, store: store, runner: runner, clock: clock, id: "host-a:11:1-bb")
        await second.register(as: .tick, timing: .beforeFirstClaim)
        #expect(try await second.tickUntilIdle().started.isEmpty)
        await second.markStopped()
        #expect(try await registry.registeredWorkers().map(\.workerID) == ["host-a:10:1-aa"])

        // A tick still working a heartbeat interval after it began (slow storage probes) is listed.
        let third = makeWorker(factory, store: store, runner: runner, clock: clock, id: "host-a:12:1-cc")
        await third.register(as: .tick, timing: .beforeFirstClaim)
        clock.set(t("2026-01-01T03:01:00Z"))
        _ = try await third.tickUntilIdle()
        #expect(try await registry.registeredWorkers().map(\.workerID).sorted() == ["host-a:10:1-aa", "host-a:12:1-cc"])
        await third.markStopped()
    }
}
