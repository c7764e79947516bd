import RefitCore
import Testing

/// Materialization, input resolution and the incremental missing-input counts.
@Suite("SchedulingStore conformance: materialization and readiness")
struct MaterializationConformanceTests {
    typealias S = Scenario

    @Test("materialize is idempotent, moves the watermark forward only, and records the due state", arguments: StoreKind.allCases)
    func materialize(_ kind: StoreKind) async throws {
        let f = try kind.make()
        #expect(try await f.store.watermark(S.train) == nil)
        let windows = (0..<3).map { NewWindow(window: S.hour($0), dueAt: S.hour($0).end, trigger: .backfill) }
        #expect(try await f.store.materialize(S.train, windows: windows, until: S.hour(2).end, outputs: ["Model"],
                                              definitionSHA256: S.sha, budget: S.once, now: S.now) == 3)
        #expect(try await f.store.materialize(S.train, windows: windows, until: S.hour(2).end, outputs: ["Model"],
                                              definitionSHA256: S.sha, budget: S.once, now: S.now) == 0)
        #expect(try await f.store.watermark(S.train) == S.hour(2).end)
        #expect(try await f.store.watermark(S.deploy) == nil)
        // An earlier watermark never moves it back; overlapping windows add only the new one.
        let overlapping = (2..<4).map { NewWindow(window: S.hour($0), dueAt: S.hour($0).end, trigger: .schedule) }
        #expect(try await f.store.materialize(S.train, windows: overlapping, until: S.hour(3).end, outputs: ["Model"],
                                              definitionSHA256: S.sha, budget: S.once, now: S.now) == 1)
        #expect(try await f.store.materialize(S.train, windows: [], until: S.hour(1).end, outputs: ["Model"],
                                              definitionSHA256: S.sha, budget: S.once, now: S.now) == 0)
        #expect(try await f.store.watermark(S.train) == S.hour(3).end)

        let first = try await f.record(S.train, 0)
        #expect(first.status == .waiting)
        #expect(first.substate == .datasetDependencies)
        #expect(first.attempts == 0)
        #expect(first.nextAttemptAt == S.hour(0).end)
        #expect(first.nextTrigger == .backfill)
        #expect(first.priority == 0)
        #expect(first.missingInputs == nil)
        #expect(first.leaseOwner == nil)
        #expect(first.definitionSHA256 == S.sha)
        #expect(try await f.record(S.train, 3).nextTrigger == .schedule)
        #expect(try await f.store.window(id: first.id) == first)

        // A window materialized before its due time waits for it (ScheduleTime).
        let early = try await f.materialize(S.score, hours: 0..<1, now: S.t0)
        #expect(early[0].substate == .scheduleTime)
    }

    @Test("unresolved windows come oldest first, a page at a time, until their inputs are recorded", arguments: StoreKind.allCases)
    func unresolved(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let windows = try await f.materialize(S.train, hours: 0..<5, outputs: ["Model"])
        #expect(try await f.store.unresolvedWindows(limit: 3).map(\.id) == windows.prefix(3).map(\.id))
        // At most `limit`: a limit of 0 answers nothing.
        let none = try await f.store.unresolvedWindows(limit: 0)
        #expect(none.isEmpty)
        try await f.resolve(S.train, hours: 0..<2)
        #expect(try await f.store.unresolvedWindows(limit: 10).map(\.id) == windows.suffix(3).map(\.id))
        // Recording again is ignored: the count stays what the first record said.
        try await f.store.recordInputs([WindowInputs(windowID: windows[0].id, inputs: [S.external("Raw", 0)])], now: S.now)
        #expect(try await f.record(S.train, 0).missingInputs == 0)
    }

    @Test("recordInputs counts inputs not Ready and creates external slices with their first check", arguments: StoreKind.allCases)
    func counting(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let policy = Dataset.ExternalDataPolicy(dataDelay: .minutes(30), retryInterval: .minutes(5), maximumRetry: 3)
        try await f.materialize(S.train, hours: 0..<2, outputs: ["Model"])
        // Window 0 reads Raw@0 and Raw@1; window 1 reads Raw@1 (shared) and, twice, Raw@2.
        let records = try await f.resolve(S.train, hours: 0..<2) { index in
            index == 0 ? [S.external("Raw", 0, policy: policy), S.external("Raw", 1, policy: policy)]
                : [S.external("Raw", 1, policy: policy), S.external("Raw", 2, policy: policy), S.external("Raw", 2, policy: policy)]
        }
        #expect(records.map(\.missingInputs) == [2, 2])
        #expect(records.map(\.substate) == [.datasetDependencies, .datasetDependencies])
        let slices = try f.inspector.slices(datasets: ["Raw"])
        #expect(slices.map(\.slice) == [S.hour(0), S.hour(1), S.hour(2)])
        #expect(slices.allSatisfy { $0.status == .waiting && $0.substate == .validation && $0.checkCount == 0 && $0.fingerprint == nil })
        #expect(slices.map(\.nextCheckAt) == [S.hour(0).end + .minutes(30), S.hour(1).end + .minutes(30), S.hour(2).end + .minutes(30)])
        #expect(Set(slices.map(\.id)).count == 3)
        #expect(try await f.store.candidates(S.query(S.train), now: S.now).isEmpty)
    }

    @Test("an input produced by an activity counts as Ready when the producing window is Ready", arguments: StoreKind.allCases)
    func producedInputs(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.runnable(S.train, hours: 0..<2, outputs: ["Model"])
        try await f.run(S.train, 0, run: "train-0")
        try await f.materialize(S.deploy, hours: 0..<2, outputs: ["Deployed"])
        let deploys = try await f.resolve(S.deploy, hours: 0..<2) { [S.produced("Model", $0)] }
        #expect(deploys.map(\.missingInputs) == [0, 1])
        #expect(deploys.map(\.substate) == [nil, .datasetDependencies])
        #expect(try await f.candidateStarts(S.query(S.deploy)) == [S.hour(0).start])
        // A dataset nobody produces never becomes Ready; no slice row is made for it.
        try await f.materialize(S.score, hours: 0..<1)
        #expect(try await f.resolve(S.score, hours: 0..<1) { [S.produced("Orphan", $0)] }.map(\.missingInputs) == [1])
        #expect(try f.inspector.slices(datasets: ["Orphan", "Model"]).isEmpty)
    }

    @Test("an external slice already Ready counts as Ready for a window resolved later", arguments: StoreKind.allCases)
    func readySliceLater(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.materialize(S.train, hours: 0..<2, outputs: ["Model"])
        try await f.resolve(S.train, hours: 0..<1) { [S.external("Raw", $0)] }
        let slice = try #require(try f.inspector.slices(datasets: ["Raw"]).first)
        var check = slice.check(policy: nil, validation: nil)
        _ = check.checked(.present(DataFingerprint(files: [.init(name: "raw/0.csv", size: 10)])), at: S.now)
        try await f.store.recordChecks([SliceCheckUpdate(sliceID: slice.id, seenCheckCount: 0, check: check)], now: S.now)
        let later = try await f.resolve(S.train, hours: 1..<2) { _ in [S.external("Raw", 0)] }
        #expect(later[0].missingInputs == 0)
        #expect(later[0].substate == nil)
        #expect(try f.inspector.slices(datasets: ["Raw"]).count == 1)
    }

    @Test("unresolvable inputs leave the window never runnable until resetInputs", arguments: StoreKind.allCases)
    func unresolvableAndReset(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.materialize(S.train, hours: 0..<3, outputs: ["Model"])
        try await f.materialize(S.score, hours: 0..<1)
        let records = try await f.resolve(S.train, hours: 0..<3) { $0 == 0 ? nil : [] }
        #expect(records.map(\.missingInputs) == [1, 0, 0])
        #expect(records[0].substate == .datasetDependencies)
        #expect(try await f.store.unresolvedWindows(limit: 10).map(\.key) == [S.score])
        // Window 2 runs: only Waiting windows of the pipeline are reset.
        _ = try #require(try await f.claim(records[2].id, run: "r2"))
        #expect(try await f.store.resetInputs(pipeline: "P", now: S.now + .minutes(1)) == 2)
        let reset = try await f.records(S.train, hours: 0..<3)
        #expect(reset.map(\.missingInputs) == [nil, nil, 0])
        #expect(reset[0].updatedAt == S.now + .minutes(1))
        #expect(try await f.store.unresolvedWindows(limit: 10).map(\.id) == [records[0].id, records[1].id, try await f.record(S.score, 0).id])
        #expect(try await f.store.resetInputs(pipeline: "P", now: S.now) == 0)
        // Resolved again with new definitions, the window can run.
        #expect(try await f.resolve(S.train, hours: 0..<2).map(\.missingInputs) == [0, 0])
        #expect(try await f.candidateStarts(S.query(S.train)) == [S.hour(0).start, S.hour(1).start])
    }
}
