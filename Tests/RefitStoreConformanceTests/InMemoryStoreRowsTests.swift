import RefitCore
import RefitTestKit
import Testing

/// The in-memory store's own read accessors, which tests of the worker rely on: lineage,
/// outputs, deployments, endpoint locks, window inputs and the audit trail. (SQLite keeps the
/// same rows; its repositories are tested with RefitStore.)
@Suite("InMemorySchedulingStore rows")
struct InMemoryStoreRowsTests {
    typealias S = Scenario

    @Test("lineage: a claim copies the fingerprints seen and the runs that produced its inputs")
    func lineage() async throws {
        let store = InMemorySchedulingStore()
        let f = StoreFixture(kind: .inMemory, store: store, inspector: InMemoryInspector(store: store))
        try await f.materialize(S.train, hours: 0..<1, outputs: ["Model"])
        try await f.resolve(S.train, hours: 0..<1) { [S.external("Raw", $0)] }
        let raw = try #require(store.slices.first)
        let data = DataFingerprint(files: [.init(name: "raw/0.csv", size: 10)])
        var check = raw.check(policy: nil, validation: nil)
        _ = check.checked(.present(data), at: S.now)
        try await store.recordChecks([SliceCheckUpdate(sliceID: raw.id, seenCheckCount: 0, check: check)], now: S.now)
        try await f.run(S.train, 0, run: "t1", .failed(.retryable, message: "x"), budget: RetryBudget(ActivityPolicy(retry: 1)))
        try await f.run(S.train, 0, run: "t2", budget: RetryBudget(ActivityPolicy(retry: 1)))
        #expect(store.runInputs(runID: "t2") == [.init(dataset: "Raw", slice: S.hour(0), fingerprint: data, producerRunID: nil)])
        try await f.materialize(S.deploy, hours: 0..<1, outputs: ["Deployed"])
        let deploy = try await f.resolve(S.deploy, hours: 0..<1) { [S.produced("Model", $0)] }[0]
        #expect(store.inputs(windowID: deploy.id) == [.init(dataset: "Model", slice: S.hour(0), ready: true)])
        #expect(store.producedDatasets(of: S.train) == ["Model"])
        _ = try #require(try await f.claim(deploy.id, run: "d1"))
        #expect(store.runInputs(runID: "d1") == [.init(dataset: "Model", slice: S.hour(0), fingerprint: nil, producerRunID: "t2")])
        #expect(store.runs.map(\.runID) == ["t1", "t2", "d1"])
        #expect(store.windows(pipeline: "P").map(\.key.activity) == ["Deploy", "Train"])
    }

    @Test("outputs, deployments and endpoint locks as a successful update records them")
    func deployments() async throws {
        let store = InMemorySchedulingStore()
        let f = StoreFixture(kind: .inMemory, store: store, inspector: InMemoryInspector(store: store))
        try await f.runnable(S.deploy, hours: 0..<3, outputs: ["Deployed"])
        func deployment(_ index: Int) -> ProducedDeployment {
            ProducedDeployment(endpoint: "score", modelLocation: "models/\(S.hour(index).start.iso8601)", modelWindow: S.hour(index),
                               reason: "schedule")
        }
        let first = try #require(try await f.claim(try await f.record(S.deploy, 0).id, run: "d0"))
        #expect(try await store.claimEndpoint("score", runID: "d0", modelWindowStart: S.hour(0).start, now: S.now) == .acquired)
        #expect(store.endpointLock("score")?.runID == first.runID)
        await #expect(throws: InMemorySchedulingStore.Failure.unknownRun("ghost")) {
            try await store.claimEndpoint("other", runID: "ghost", modelWindowStart: S.hour(0).start, now: S.now)
        }
        try await f.finish("d0", Scenario.success(deploying: deployment(0), job: "job-0"))
        try await f.run(S.deploy, 2, run: "d2", Scenario.success(deploying: deployment(2)))
        try await f.run(S.deploy, 1, run: "d1", Scenario.success(deploying: deployment(1)))
        #expect(store.outputs.map(\.runID) == ["d0", "d2", "d1"])
        #expect(store.outputs.map(\.evaluationJSON) == [nil, nil, nil])
        let deployed = store.deployments
        #expect(deployed.map(\.runID) == ["d0", "d2"])
        #expect(deployed.map(\.replacedDeploymentID) == [nil, deployed[0].id])
        #expect(deployed.map(\.outputID) == store.outputs.prefix(2).map(\.id))
        #expect(store.run(id: "d0")?.externalJobID == "job-0")
        #expect(store.run(id: "d0")?.resultJSON == #"{"rmse":1.5}"#)
        #expect(store.run(id: "d1")?.status == .skipped)
        await #expect(throws: InMemorySchedulingStore.Failure.duplicateRunID("d1")) {
            _ = try await store.rerun(S.deploy, start: S.hour(1).start, budget: S.once, reason: "again", now: S.now)
            _ = try await f.claim(try await f.record(S.deploy, 1).id, run: "d1")
        }
        #expect(store.events.filter { $0.runID == "d0" }.map(\.kind) == ["attemptStarted", "attemptFinished"])
    }
}
