import RefitCore
import Testing

/// Several workers on one store (several processes on one SQLite file): whatever the
/// interleaving, one winner per decision.
@Suite("SchedulingStore conformance: workers sharing a store")
struct SharedStoreConformanceTests {
    typealias S = Scenario

    @Test("claims from several handles never exceed the cap nor claim a window twice", arguments: StoreKind.allCases)
    func claims(_ kind: StoreKind) async throws {
        let (f, handles) = try kind.makeShared(3)
        let records = try await f.runnable(S.train, hours: 0..<6, outputs: ["Model"])
        let won = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for (worker, handle) in handles.enumerated() {
                for record in records {
                    group.addTask {
                        try await handle.claim(ClaimRequest(windowID: record.id, workerID: "w\(worker)", runID: "w\(worker)-\(record.id)",
                                                            leaseDuration: .minutes(5), concurrency: 4, budget: S.once,
                                                            definitionSHA256: S.sha), now: S.now)?.windowID
                    }
                }
            }
            var won: [Int64] = []
            for try await id in group { if let id { won.append(id) } }
            return won
        }
        #expect(won.count == 4)
        #expect(Set(won).count == 4)
        #expect(try await f.store.runningCounts() == [S.train: 4])
        for id in won { #expect(try f.inspector.runs(windowID: id).count == 1) }
    }

    @Test("the same check recorded by two workers applies once", arguments: StoreKind.allCases)
    func checks(_ kind: StoreKind) async throws {
        let (f, handles) = try kind.makeShared(2)
        try await f.materialize(S.train, hours: 0..<1, outputs: ["Model"])
        try await f.resolve(S.train, hours: 0..<1) { _ in [S.external("Raw", 0), S.external("Raw", 1)] }
        let slice = try #require(try f.inspector.slices(datasets: ["Raw"]).first)
        var check = slice.check(policy: nil, validation: nil)
        _ = check.checked(.present(DataFingerprint(files: [.init(name: "raw/0.csv", size: 1)])), at: S.now)
        let update = SliceCheckUpdate(sliceID: slice.id, seenCheckCount: slice.checkCount, check: check)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for handle in handles { group.addTask { try await handle.recordChecks([update], now: S.now) } }
            try await group.waitForAll()
        }
        #expect(try await f.record(S.train, 0).missingInputs == 1)
        #expect(try f.inspector.slices(datasets: ["Raw"]).first?.checkCount == 1)
    }

    @Test("a late finish racing the recovery of its lease: exactly one of them applies", arguments: StoreKind.allCases)
    func finishRacesRecovery(_ kind: StoreKind) async throws {
        for round in 0..<5 {
            let (f, handles) = try kind.makeShared(2)
            let budget = RetryBudget(ActivityPolicy(retry: 2))
            let record = try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"], budget: budget)[0]
            _ = try #require(try await f.claim(record.id, run: "r\(round)", worker: "w1", budget: budget, lease: .minutes(5)))
            let later = S.now + .minutes(6)
            async let finished = handles[0].finish(runID: "r\(round)", workerID: "w1", outcome: Scenario.success(), budget: budget, now: later)
            async let recovered = handles[1].recoverExpiredLeases(now: later) { _ in budget }
            let (finish, recovery) = try await (finished, recovered)
            let window = try await f.record(S.train, 0)
            let run = try #require(try f.inspector.run(id: "r\(round)"))
            if finish?.applied == true {
                #expect(recovery.isEmpty)
                #expect(window.status == .ready && run.status == .succeeded)
            } else {
                #expect(recovery.map(\.id) == [record.id])
                #expect(window.status == .waiting && window.attempts == 1 && run.status == .failed && run.errorClass == .crash)
            }
        }
    }
}
