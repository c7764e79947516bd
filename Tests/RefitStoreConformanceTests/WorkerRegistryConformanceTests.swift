import Foundation
import RefitCore
@testable import RefitPostgres
import Testing

/// The registry of worker processes `refit status` lists: registering, heartbeats, a graceful
/// stop, pruning of long-gone workers, and how status judges a worker from its heartbeat.
@Suite("SchedulingStore conformance: worker registry")
struct WorkerRegistryConformanceTests {
    typealias S = Scenario

    static func worker(_ id: String, host: String = "host-a", pid: Int64 = 100, command: WorkerCommand = .run,
                       interval: Int64 = 10) -> WorkerRegistration {
        WorkerRegistration(workerID: id, host: host, pid: pid, command: command, heartbeatInterval: TimeSpan(seconds: interval))
    }

    @Test("register, heartbeat and stop: the start stays, heartbeats move forward only, a stop is recorded",
          arguments: StoreKind.allCases)
    func lifecycle(_ kind: StoreKind) async throws {
        let f = try kind.make()
        #expect(try await f.store.registeredWorkers().isEmpty)
        try await f.store.registerWorker(Self.worker("host-a:100:7-aa"), now: S.now)
        try await f.store.registerWorker(Self.worker("host-b:200:9-bb", host: "host-b", pid: 200, command: .tick, interval: 3),
                                         now: S.now + TimeSpan(seconds: 1))
        var workers = try await f.store.registeredWorkers()
        #expect(workers.map(\.workerID) == ["host-a:100:7-aa", "host-b:200:9-bb"])
        #expect(workers[0] == WorkerRecord(workerID: "host-a:100:7-aa", host: "host-a", pid: 100, command: .run,
                                           heartbeatInterval: TimeSpan(seconds: 10), startedAt: S.now, lastHeartbeatAt: S.now, stoppedAt: nil))
        #expect(workers[1].host == "host-b" && workers[1].pid == 200 && workers[1].command == .tick)
        #expect(workers[1].heartbeatInterval == TimeSpan(seconds: 3))

        try await f.store.heartbeatWorker(Self.worker("host-a:100:7-aa"), now: S.now + TimeSpan(seconds: 10))
        // A late heartbeat from before never moves the last heartbeat back.
        try await f.store.heartbeatWorker(Self.worker("host-a:100:7-aa"), now: S.now + TimeSpan(seconds: 5))
        workers = try await f.store.registeredWorkers()
        #expect(workers[0].startedAt == S.now && workers[0].lastHeartbeatAt == S.now + TimeSpan(seconds: 10))

        try await f.store.markWorkerStopped(workerID: "host-b:200:9-bb", now: S.now + TimeSpan(seconds: 20))
        try await f.store.markWorkerStopped(workerID: "nobody", now: S.now + TimeSpan(seconds: 20))
        workers = try await f.store.registeredWorkers()
        #expect(workers.count == 2)
        #expect(workers[1].stoppedAt == S.now + TimeSpan(seconds: 20) && workers[1].lastHeartbeatAt == S.now + TimeSpan(seconds: 20))
        #expect(workers[1].state(at: S.now + TimeSpan(seconds: 21)) == .stopped)
        #expect(workers[0].stoppedAt == nil && workers[0].state(at: S.now + TimeSpan(seconds: 21)) == .running)
    }

    @Test("a heartbeat of a worker whose row is gone registers it again", arguments: StoreKind.allCases)
    func heartbeatUpserts(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.store.heartbeatWorker(Self.worker("host-a:100:7-aa"), now: S.now)
        let workers = try await f.store.registeredWorkers()
        #expect(workers.map(\.workerID) == ["host-a:100:7-aa"])
        #expect(workers.first?.startedAt == S.now && workers.first?.lastHeartbeatAt == S.now && workers.first?.stoppedAt == nil)
    }

    @Test("registering deletes workers stopped or silent for more than seven days, and only those", arguments: StoreKind.allCases)
    func prunesOldRows(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let week = WorkerRegistration.retention
        try await f.store.registerWorker(Self.worker("stopped-long-ago"), now: S.now)
        try await f.store.markWorkerStopped(workerID: "stopped-long-ago", now: S.now)
        try await f.store.registerWorker(Self.worker("silent-long-ago"), now: S.now)
        try await f.store.registerWorker(Self.worker("stopped-recently"), now: S.now)
        try await f.store.markWorkerStopped(workerID: "stopped-recently", now: S.now + .days(1))
        try await f.store.registerWorker(Self.worker("alive"), now: S.now)
        try await f.store.heartbeatWorker(Self.worker("alive"), now: S.now + week)
        // Exactly seven days is kept; a second more is pruned.
        try await f.store.registerWorker(Self.worker("newcomer"), now: S.now + week)
        #expect(try await f.store.registeredWorkers().count == 5)
        try await f.store.registerWorker(Self.worker("newcomer"), now: S.now + week + TimeSpan(seconds: 1))
        #expect(Set(try await f.store.registeredWorkers().map(\.workerID)) == ["stopped-recently", "alive", "newcomer"])
    }

    @Test("workers on separate handles (processes) all appear", arguments: StoreKind.allCases)
    func sharedHandles(_ kind: StoreKind) async throws {
        let (f, handles) = try kind.makeShared(2)
        for (index, handle) in handles.enumerated() {
            try await handle.registerWorker(Self.worker("host-\(index):1:1-x", host: "host-\(index)"), now: S.now)
        }
        #expect(try await f.store.registeredWorkers().map(\.host) == ["host-0", "host-1"])
    }

    @Test("status calls a worker silent after three heartbeat intervals, never under 30 s")
    func silence() {
        let slow = WorkerRecord(workerID: "a", host: "h", pid: 1, command: .run, heartbeatInterval: TimeSpan(seconds: 20),
                                startedAt: S.now, lastHeartbeatAt: S.now, stoppedAt: nil)
        #expect(slow.state(at: S.now + TimeSpan(seconds: 60)) == .running)
        #expect(slow.state(at: S.now + TimeSpan(seconds: 61)) == .silent)
        var fast = slow
        fast.heartbeatInterval = TimeSpan(seconds: 1)
        #expect(fast.state(at: S.now + TimeSpan(seconds: 30)) == .running)
        #expect(fast.state(at: S.now + TimeSpan(seconds: 31)) == .silent)
    }

    @Test("on PostgreSQL heartbeats carry the server's clock and wake no other worker")
    func postgresServerClock() async throws {
        let database = try PostgresTestDatabase()
        let store = try PostgresSchedulingStore.open(url: database.url, leaseClock: .database)
        let other = try PostgresSchedulingStore.open(url: database.url, leaseClock: .database)
        let before = try await other.changeToken()
        let wall = Instant(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
        // A host whose clock says 2001 still stamps the server's time.
        try await store.registerWorker(Self.worker("skewed"), now: Instant(year: 2001, month: 1, day: 1))
        try await store.heartbeatWorker(Self.worker("skewed"), now: Instant(year: 2001, month: 1, day: 1))
        let record = try #require(try await store.registeredWorkers().first)
        #expect(abs((record.lastHeartbeatAt - wall).seconds) < 3600, "\(record)")
        #expect(abs((record.startedAt - wall).seconds) < 3600, "\(record)")
        // A write another connection makes is seen; the registry's writes were not.
        _ = try await store.materialize(S.train, windows: [NewWindow(window: S.hour(0), dueAt: S.hour(0).end, trigger: .schedule)],
                                        until: S.hour(0).end, outputs: [], definitionSHA256: S.sha, budget: S.once, now: S.now)
        var seen = try await other.changeToken()
        for _ in 0..<50 where seen == before {
            try await Task.sleep(for: .milliseconds(20))
            seen = try await other.changeToken()
        }
        // Notifications arrive in commit order: had the registry sent any, they would be here too.
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await other.changeToken() == before + 1)
    }
}
