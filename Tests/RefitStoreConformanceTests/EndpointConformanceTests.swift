import RefitCore
import Testing

/// Endpoint locks: one update attempt at a time per endpoint, and no older model over a newer one.
@Suite("SchedulingStore conformance: endpoint locks")
struct EndpointConformanceTests {
    typealias S = Scenario

    @Test("claimEndpoint: acquired, busy while the holder runs, freed when its run ends", arguments: StoreKind.allCases)
    func lock(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let records = try await f.runnable(S.deploy, hours: 0..<4, outputs: ["Deployed"])
        for (index, record) in records.enumerated() { _ = try #require(try await f.claim(record.id, run: "d\(index)")) }
        #expect(try await f.store.claimEndpoint("score", runID: "d2", modelWindowStart: S.hour(2).start, now: S.now) == .acquired)
        #expect(try await f.store.claimEndpoint("score", runID: "d2", modelWindowStart: S.hour(2).start, now: S.now) == .acquired)
        #expect(try await f.store.claimEndpoint("score", runID: "d3", modelWindowStart: S.hour(3).start, now: S.now) == .busy(holderRunID: "d2"))
        #expect(try await f.store.claimEndpoint("other", runID: "d3", modelWindowStart: S.hour(3).start, now: S.now) == .acquired)
        let deployed = ProducedDeployment(endpoint: "score", modelLocation: "models/2", modelWindow: S.hour(2), reason: "schedule")
        try await f.finish("d2", Scenario.success(deploying: deployed))
        // Freed with the run; an older model than the one serving is superseded.
        #expect(try await f.store.claimEndpoint("score", runID: "d1", modelWindowStart: S.hour(1).start, now: S.now)
                == .superseded(servingWindowStart: S.hour(2).start))
        #expect(try await f.store.claimEndpoint("score", runID: "d3", modelWindowStart: S.hour(3).start, now: S.now) == .acquired)
        #expect(try await f.store.claimEndpoint("score", runID: "d0", modelWindowStart: S.hour(0).start, now: S.now)
                == .busy(holderRunID: "d3"))
    }

    @Test("a claim naming an endpoint takes its lock in the same transaction, and says how that went", arguments: StoreKind.allCases)
    func lockWithTheClaim(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let records = try await f.runnable(S.deploy, hours: 0..<4, outputs: ["Deployed"])
        // No endpoint named: no lock asked for.
        let plain = try #require(try await f.claim(records[0].id, run: "d0"))
        #expect(plain.endpointClaim == nil)
        let first = try #require(try await f.claim(records[2].id, run: "d2", endpoint: "score"))
        #expect(first.endpointClaim == .acquired)
        #expect(try await f.store.claimEndpoint("score", runID: "d0", modelWindowStart: S.hour(0).start, now: S.now) == .busy(holderRunID: "d2"))
        // Busy: the window is claimed all the same, and the attempt asks again itself.
        let waiting = try #require(try await f.claim(records[3].id, run: "d3", endpoint: "score"))
        #expect(waiting.endpointClaim == .busy(holderRunID: "d2"))
        let deployed = ProducedDeployment(endpoint: "score", modelLocation: "models/2", modelWindow: S.hour(2), reason: "schedule")
        try await f.finish("d2", Scenario.success(deploying: deployed))
        // The window's own start is the model's: an older window than the one serving is superseded.
        let older = try #require(try await f.claim(records[1].id, run: "d1", endpoint: "score"))
        #expect(older.endpointClaim == .superseded(servingWindowStart: S.hour(2).start))
        #expect(try await f.store.claimEndpoint("score", runID: "d3", modelWindowStart: S.hour(3).start, now: S.now) == .acquired)
    }

    @Test("an endpoint lock must name a claimed run", arguments: StoreKind.allCases)
    func unknownRun(_ kind: StoreKind) async throws {
        let f = try kind.make()
        await #expect(throws: (any Error).self) {
            _ = try await f.store.claimEndpoint("score", runID: "ghost", modelWindowStart: S.hour(0).start, now: S.now)
        }
    }

    @Test("a crashed holder's endpoint lock frees when its lease is recovered", arguments: StoreKind.allCases)
    func crashedHolder(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let records = try await f.runnable(S.deploy, hours: 0..<2, outputs: ["Deployed"])
        _ = try #require(try await f.claim(records[0].id, run: "a", worker: "w1", lease: .minutes(5)))
        _ = try #require(try await f.claim(records[1].id, run: "b", worker: "w2", lease: .hours(1)))
        #expect(try await f.store.claimEndpoint("score", runID: "a", modelWindowStart: S.hour(0).start, now: S.now) == .acquired)
        #expect(try await f.store.claimEndpoint("score", runID: "b", modelWindowStart: S.hour(1).start, now: S.now) == .busy(holderRunID: "a"))
        _ = try await f.store.recoverExpiredLeases(now: S.now + .minutes(6)) { _ in S.once }
        #expect(try await f.store.claimEndpoint("score", runID: "b", modelWindowStart: S.hour(1).start, now: S.now + .minutes(6)) == .acquired)
    }
}
