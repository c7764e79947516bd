import RefitCore
import Testing

/// Leases: renewing, giving a window back, and recovering the windows of dead workers.
@Suite("SchedulingStore conformance: leases")
struct LeaseConformanceTests {
    typealias S = Scenario

    @Test("release gives the window back without charging the attempt", arguments: StoreKind.allCases)
    func release(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let record = try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"])[0]
        _ = try #require(try await f.claim(record.id, run: "r1", worker: "w1"))
        // Only the lease holder can give it back.
        try await f.store.release(runID: "r1", workerID: "w2", budget: S.once, now: S.now)
        #expect(try await f.record(S.train, 0).status == .inProgress)
        try await f.store.release(runID: "r1", workerID: "w1", budget: S.once, now: S.now + .minutes(1))
        let window = try await f.record(S.train, 0)
        #expect(window.status == .waiting && window.substate == .retry && window.attempts == 0)
        #expect(window.leaseOwner == nil && window.nextAttemptAt == S.now + .minutes(1))
        let run = try #require(try f.inspector.run(id: "r1"))
        #expect(run.status == .failed && run.errorClass == .interrupted && run.ended)
        // With a budget of one attempt, the window can still run: the released one was not charged.
        let again = try #require(try await f.claim(record.id, run: "r2", now: S.now + .minutes(1)))
        #expect(again.attempt == 1)
        // Releasing an ended run does nothing.
        try await f.store.release(runID: "r1", workerID: "w1", budget: S.once, now: S.now + .minutes(2))
        #expect(try await f.record(S.train, 0).leaseOwner == "w1")
    }

    @Test("expired leases are recovered: the attempt stays counted and its run is closed as a crash",
          arguments: StoreKind.allCases)
    func recover(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let twice = RetryBudget(ActivityPolicy(retry: 1))
        let records = try await f.runnable(S.train, hours: 0..<3, outputs: ["Model"], budget: twice)
        _ = try #require(try await f.claim(records[0].id, run: "a", worker: "w1", budget: twice, lease: .minutes(5)))
        _ = try #require(try await f.claim(records[1].id, run: "b", worker: "w1", budget: twice, lease: .minutes(5)))
        _ = try #require(try await f.claim(records[2].id, run: "c", worker: "w2", budget: twice, lease: .minutes(30)))
        // Not before the lease expires (the expiry instant itself is still inside the lease).
        #expect(try await f.store.recoverExpiredLeases(now: S.now + .minutes(5)) { _ in twice }.isEmpty)
        let recovered = try await f.store.recoverExpiredLeases(now: S.now + .minutes(6)) { _ in twice }
        #expect(recovered.map(\.id) == [records[0].id, records[1].id])
        #expect(recovered.allSatisfy { $0.status == .inProgress && $0.leaseOwner == "w1" })
        let window = try await f.record(S.train, 0)
        #expect(window.status == .waiting && window.substate == .retry && window.attempts == 1 && window.leaseOwner == nil)
        let run = try #require(try f.inspector.run(id: "a"))
        #expect(run.status == .failed && run.errorClass == .crash && run.ended)
        #expect(run.errorMessage == "The worker w1 stopped before the attempt finished (its lease expired at \((S.now + .minutes(5)).iso8601)).")
        #expect(try await f.record(S.train, 2).status == .inProgress)
        // The second lost attempt exhausts a budget of two.
        _ = try #require(try await f.claim(records[0].id, run: "a2", worker: "w3", budget: twice, lease: .minutes(1),
                                           now: S.now + .minutes(6)))
        let final = try await f.store.recoverExpiredLeases(now: S.now + .minutes(8)) { _ in twice }
        #expect(final.map(\.id) == [records[0].id])
        #expect(try await f.record(S.train, 0).status == .failed)
        #expect(try await f.record(S.train, 0).attempts == 2)
    }

    @Test("a dead owner's windows are recovered before their leases expire; a live owner's are not",
          arguments: StoreKind.allCases)
    func recoverDeadOwner(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let twice = RetryBudget(ActivityPolicy(retry: 1))
        let records = try await f.runnable(S.train, hours: 0..<3, outputs: ["Model"], budget: twice)
        _ = try #require(try await f.claim(records[0].id, run: "a", worker: "host:10:1-aa", budget: twice, lease: .minutes(30)))
        _ = try #require(try await f.claim(records[1].id, run: "b", worker: "host:11:1-bb", budget: twice, lease: .minutes(30)))
        _ = try #require(try await f.claim(records[2].id, run: "c", worker: "host:10:1-aa", budget: twice, lease: .minutes(30)))
        let recovered = try await f.store.recoverLeases(now: S.now + .minutes(1), deadOwners: ["host:10:1-aa"]) { _ in twice }
        #expect(recovered.map(\.id).sorted() == [records[0].id, records[2].id].sorted())
        #expect(try await f.record(S.train, 0).status == .waiting)
        #expect(try await f.record(S.train, 2).status == .waiting)
        #expect(try await f.record(S.train, 1).leaseOwner == "host:11:1-bb")
    }

    @Test("renewLease extends only the holder's live lease", arguments: StoreKind.allCases)
    func renew(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let records = try await f.runnable(S.train, hours: 0..<2, outputs: ["Model"])
        _ = try #require(try await f.claim(records[0].id, run: "r", worker: "w1", lease: .minutes(5)))
        #expect(try await f.store.renewLease(windowID: records[0].id, workerID: "w1", until: S.now + .minutes(9), now: S.now + .minutes(4)))
        #expect(try await f.record(S.train, 0).leaseExpiresAt == S.now + .minutes(9))
        #expect(try await f.store.recoverExpiredLeases(now: S.now + .minutes(8)) { _ in S.once }.isEmpty)
        #expect(try await !f.store.renewLease(windowID: records[0].id, workerID: "w2", until: S.now + .hours(1), now: S.now + .minutes(5)))
        #expect(try await f.store.renewLease(windowID: records[0].id, workerID: "w1", until: S.now + .minutes(20), now: S.now + .minutes(9)))
        #expect(try await !f.store.renewLease(windowID: records[0].id, workerID: "w1", until: S.now + .hours(1), now: S.now + .minutes(21)))
        #expect(try await !f.store.renewLease(windowID: records[1].id, workerID: "w1", until: S.now + .hours(1), now: S.now))
        try await f.finish("r", now: S.now + .minutes(10))
        #expect(try await !f.store.renewLease(windowID: records[0].id, workerID: "w1", until: S.now + .hours(1), now: S.now + .minutes(10)))
    }

    // `nextWakeTime` answers a moment after `now`: another worker's lease that expired before
    // `now` and is not recovered yet wakes the worker a second from now (to recover it).
    @Test("nextWakeTime is after now even when a foreign lease already expired", arguments: StoreKind.allCases)
    func nextWakeAfterNow(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let records = try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"])
        _ = try #require(try await f.claim(records[0].id, run: "theirs", worker: "w2", lease: .minutes(5)))
        let later = S.now + .minutes(30)
        let wake = try await f.store.nextWakeTime(after: later, workerID: "w1")
        #expect(wake == later + TimeSpan(seconds: 1))
    }

    @Test("nextWakeTime: the next retry among runnable windows, or a foreign lease's expiry", arguments: StoreKind.allCases)
    func nextWake(_ kind: StoreKind) async throws {
        let f = try kind.make()
        #expect(try await f.store.nextWakeTime(after: S.now, workerID: "w1") == nil)
        let rounds = RetryBudget(attemptsPerRound: 1, rounds: 2, roundInterval: .hours(2))
        let records = try await f.runnable(S.train, hours: 0..<3, outputs: ["Model"], budget: rounds)
        // Due windows (next attempt in the past) are not a wake-up: a pass already starts them.
        #expect(try await f.store.nextWakeTime(after: S.now, workerID: "w1") == nil)
        // A window not due yet by its schedule but with nothing missing wakes the loop.
        try await f.materialize(S.score, hours: 30..<31)
        try await f.resolve(S.score, hours: 30..<31)
        #expect(try await f.store.nextWakeTime(after: S.now, workerID: "w1") == S.hour(30).end)
        // So does the end of a longRetry interval.
        try await f.run(S.train, 0, run: "r0", .failed(.retryable, message: "down"), budget: rounds)
        #expect(try await f.store.nextWakeTime(after: S.now, workerID: "w1") == S.now + .hours(2))
        // Our own lease is not a wake-up; another worker's is, a second after it expires.
        _ = try #require(try await f.claim(records[1].id, run: "mine", worker: "w1", lease: .minutes(5)))
        #expect(try await f.store.nextWakeTime(after: S.now, workerID: "w1") == S.now + .hours(2))
        _ = try #require(try await f.claim(records[2].id, run: "theirs", worker: "w2", lease: .minutes(10)))
        #expect(try await f.store.nextWakeTime(after: S.now, workerID: "w1") == S.now + .minutes(10) + TimeSpan(seconds: 1))
        #expect(try await f.store.nextWakeTime(after: S.now, workerID: "w2") == S.now + .minutes(5) + TimeSpan(seconds: 1))
    }
}
