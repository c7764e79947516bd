import RefitCore
import Testing

/// Claims: the concurrency cap and the conditional guard, one winner per window.
@Suite("SchedulingStore conformance: claims")
struct ClaimConformanceTests {
    typealias S = Scenario

    @Test("a claim starts an attempt: InProgress, leased, counted, history row open", arguments: StoreKind.allCases)
    func claim(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.materialize(S.train, hours: 0..<1, outputs: ["Model"], trigger: .backfill)
        let record = try await f.resolve(S.train, hours: 0..<1)[0]
        let claimed = try #require(try await f.claim(record.id, run: "r1", worker: "w1", lease: .minutes(7)))
        #expect(claimed == ClaimedAttempt(windowID: record.id, key: S.train, window: S.hour(0), runID: "r1", attempt: 1,
                                          trigger: .backfill, definitionSHA256: S.sha, leaseExpiresAt: S.now + .minutes(7)))
        let window = try #require(try await f.store.window(id: record.id))
        #expect(window.status == .inProgress)
        #expect(window.substate == nil)
        #expect(window.attempts == 1)
        #expect(window.leaseOwner == "w1")
        #expect(window.leaseExpiresAt == S.now + .minutes(7))
        let run = try #require(try f.inspector.run(id: "r1"))
        #expect(run.status == .inProgress)
        #expect(run.attempt == 1)
        #expect(run.trigger == .backfill)
        #expect(run.workerID == "w1")
        #expect(!run.ended)
        #expect(try f.inspector.eventKinds(runID: "r1") == ["attemptStarted"])
    }

    @Test("the same window is claimed once; unclaimable windows are refused", arguments: StoreKind.allCases)
    func conditionalGuard(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let records = try await f.runnable(S.train, hours: 0..<2, outputs: ["Model"])
        _ = try #require(try await f.claim(records[0].id, run: "r1", worker: "w1"))
        #expect(try await f.claim(records[0].id, run: "r2", worker: "w2") == nil)
        #expect(try await f.claim(records[0].id, run: "r3", worker: "w1") == nil)
        #expect(try await f.claim(9_999, run: "r4") == nil)
        #expect(try f.inspector.run(id: "r2") == nil)
        // Missing inputs, unresolved inputs, not due, paused: refused.
        try await f.materialize(S.train, hours: 2..<4, outputs: ["Model"])
        try await f.resolve(S.train, hours: 2..<3) { [S.external("Raw", $0)] }
        #expect(try await f.claim(try await f.record(S.train, 2).id, run: "r5") == nil)
        #expect(try await f.claim(try await f.record(S.train, 3).id, run: "r6") == nil)
        #expect(try await f.claim(records[1].id, run: "r7", now: S.hour(1).end - .minutes(1)) == nil)
        _ = try await f.store.applyPause(pipeline: "P", paused: true, now: S.now)
        #expect(try await f.claim(records[1].id, run: "r8") == nil)
        _ = try await f.store.applyPause(pipeline: "P", paused: false, now: S.now)
        #expect(try await f.claim(records[1].id, run: "r9") != nil)
        #expect(try await f.store.runningCounts() == [S.train: 2])
    }

    @Test("a claim reusing an earlier run id fails and changes nothing", arguments: StoreKind.allCases)
    func duplicateRunID(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let records = try await f.runnable(S.train, hours: 0..<2, outputs: ["Model"])
        _ = try #require(try await f.claim(records[0].id, run: "r1"))
        await #expect(throws: (any Error).self) { _ = try await f.claim(records[1].id, run: "r1") }
        let window = try await f.record(S.train, 1)
        #expect(window.status == .waiting && window.attempts == 0 && window.leaseOwner == nil)
        #expect(try await f.store.runningCounts() == [S.train: 1])
        #expect(try f.inspector.run(id: "r1")?.windowID == records[0].id)
    }

    @Test("claims never exceed the activity's concurrency, even when they race", arguments: StoreKind.allCases)
    func concurrencyCap(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let records = try await f.runnable(S.train, hours: 0..<8, outputs: ["Model"])
        let other = try await f.runnable(S.score, hours: 0..<1)
        let store = f.store
        let won = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for (index, record) in records.enumerated() {
                for worker in ["w1", "w2"] {
                    group.addTask {
                        try await store.claim(ClaimRequest(windowID: record.id, workerID: worker, runID: "\(worker)-\(index)",
                                                           leaseDuration: .minutes(5), concurrency: 3, budget: S.once,
                                                           definitionSHA256: S.sha), now: S.now)?.windowID
                    }
                }
            }
            var won: [Int64] = []
            for try await id in group { if let id { won.append(id) } }
            return won
        }
        #expect(won.count == 3)
        #expect(Set(won).count == 3)
        #expect(try await f.store.runningCounts() == [S.train: 3])
        // Another activity has its own cap; a concurrency below one still allows one.
        #expect(try await f.claim(other[0].id, run: "o", concurrency: 0) != nil)
        let waiting = records.filter { !won.contains($0.id) }
        #expect(try await f.claim(waiting[0].id, run: "x", concurrency: 3) == nil)
        #expect(try await f.claim(waiting[0].id, run: "y", concurrency: 4) != nil)
    }
}
