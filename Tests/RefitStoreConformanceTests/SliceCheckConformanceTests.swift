import RefitCore
import Testing

/// External slices: which checks are due, and what recording a check does.
@Suite("SchedulingStore conformance: external slice checks")
struct SliceCheckConformanceTests {
    typealias S = Scenario
    static let policy = Dataset.ExternalDataPolicy(retryInterval: .minutes(10), maximumRetry: 3)
    static let data = DataFingerprint(files: [.init(name: "raw/part-0.csv", size: 1_024, etag: "e1", modified: 1)])

    /// Windows 0...2 of Train read Raw at their hour; window 3 reads Raw@0 and Raw@1, as does Score 0.
    func scenario(_ kind: StoreKind) async throws -> StoreFixture {
        let f = try kind.make()
        try await f.materialize(S.train, hours: 0..<4, outputs: ["Model"])
        try await f.resolve(S.train, hours: 0..<4) { index in
            index < 3 ? [S.external("Raw", index, policy: Self.policy)]
                : [S.external("Raw", 0, policy: Self.policy), S.external("Raw", 1, policy: Self.policy)]
        }
        try await f.materialize(S.score, hours: 0..<1)
        try await f.resolve(S.score, hours: 0..<1) { _ in [S.external("Raw", 0, policy: Self.policy), S.external("Raw", 1, policy: Self.policy)] }
        return f
    }

    func checked(_ slice: SliceRecord, _ outcome: ProbeOutcome, at now: Instant = S.now) -> SliceCheckUpdate {
        var check = slice.check(policy: Self.policy, validation: nil)
        _ = check.checked(outcome, at: now)
        return SliceCheckUpdate(sliceID: slice.id, seenCheckCount: slice.checkCount, check: check)
    }

    @Test("a slice found Ready drops the count of every window reading it, in the same step", arguments: StoreKind.allCases)
    func readyDropsCounts(_ kind: StoreKind) async throws {
        let f = try await scenario(kind)
        #expect(try await f.records(S.train, hours: 0..<4).map(\.missingInputs) == [1, 1, 1, 2])
        let raw = try f.inspector.slices(datasets: ["Raw"])
        try await f.store.recordChecks([checked(raw[0], .present(Self.data))], now: S.now + .minutes(1))
        let slice = try #require(try f.inspector.slices(datasets: ["Raw"]).first)
        #expect(slice.status == .ready && slice.substate == nil && slice.checkCount == 1)
        #expect(slice.fingerprint == Self.data && slice.nextCheckAt == nil && slice.updatedAt == S.now + .minutes(1))
        let train = try await f.records(S.train, hours: 0..<4)
        #expect(train.map(\.missingInputs) == [0, 1, 1, 1])
        #expect(train.map(\.substate) == [nil, .datasetDependencies, .datasetDependencies, .datasetDependencies])
        #expect(train[0].updatedAt == S.now + .minutes(1))
        #expect(try await f.record(S.score, 0).missingInputs == 1)
        #expect(try await f.candidateStarts(S.query(S.train)) == [S.hour(0).start])
        try await f.store.recordChecks([checked(raw[1], .present(Self.data))], now: S.now)
        #expect(try await f.records(S.train, hours: 0..<4).map(\.missingInputs) == [0, 0, 1, 0])
        #expect(try await f.record(S.score, 0).missingInputs == 0)
        #expect(try await f.candidateStarts(S.query(S.train)) == [S.hour(0).start, S.hour(1).start, S.hour(3).start])
    }

    @Test("a check decided from a stale row is ignored; absent data schedules the next check", arguments: StoreKind.allCases)
    func staleAndAbsent(_ kind: StoreKind) async throws {
        let f = try await scenario(kind)
        let raw = try f.inspector.slices(datasets: ["Raw"])
        let absent = checked(raw[0], .absent(detail: "no file raw/0"))
        try await f.store.recordChecks([absent], now: S.now)
        var waiting = try #require(try f.inspector.slices(datasets: ["Raw"]).first)
        #expect(waiting.status == .waiting && waiting.substate == .validationRetry && waiting.checkCount == 1)
        #expect(waiting.nextCheckAt == S.now + .minutes(10) && waiting.message == "no file raw/0")
        // A second worker decided from the row before that check: its result is dropped.
        try await f.store.recordChecks([checked(raw[0], .present(Self.data))], now: S.now)
        waiting = try #require(try f.inspector.slices(datasets: ["Raw"]).first)
        #expect(waiting.status == .waiting && waiting.checkCount == 1)
        #expect(try await f.record(S.train, 0).missingInputs == 1)
        // Failed data leaves the counts alone; a Failed slice takes no more checks.
        var failed = waiting.check(policy: Self.policy, validation: nil)
        _ = failed.checked(.failed(message: "forbidden", retryable: false), at: S.now)
        try await f.store.recordChecks([SliceCheckUpdate(sliceID: waiting.id, seenCheckCount: 1, check: failed)], now: S.now)
        let final = try #require(try f.inspector.slices(datasets: ["Raw"]).first)
        #expect(final.status == .failed && final.message == "forbidden" && final.checkCount == 2)
        try await f.store.recordChecks([checked(final, .present(Self.data))], now: S.now)
        #expect(try f.inspector.slices(datasets: ["Raw"]).first?.status == .failed)
        #expect(try await f.record(S.train, 0).missingInputs == 1)
        // Unknown slices are skipped.
        try await f.store.recordChecks([SliceCheckUpdate(sliceID: 9_999, seenCheckCount: 0, check: absent.check)], now: S.now)
    }

    @Test("dueChecks: Waiting slices of the datasets whose check is due, oldest check first, a page", arguments: StoreKind.allCases)
    func dueChecks(_ kind: StoreKind) async throws {
        let f = try await scenario(kind)
        try await f.materialize(S.deploy, hours: 0..<1, outputs: ["Deployed"])
        try await f.resolve(S.deploy, hours: 0..<1) { _ in [S.external("Labels", 1, policy: Self.policy), S.external("Labels", 0)] }
        // First checks at each slice's end: Raw@0 and Labels@0 at 01:00, Raw@1 and Labels@1 at 02:00, Raw@2 at 03:00.
        #expect(try await f.store.dueChecks(now: S.t0, datasets: ["Raw", "Labels"], limit: 10).isEmpty)
        let due = try await f.store.dueChecks(now: S.hour(1).end, datasets: ["Raw", "Labels"], limit: 10)
        #expect(due.map { "\($0.dataset)@\($0.slice.start.iso8601)" } == [
            "Labels@\(S.hour(0).start.iso8601)", "Raw@\(S.hour(0).start.iso8601)",
            "Labels@\(S.hour(1).start.iso8601)", "Raw@\(S.hour(1).start.iso8601)",
        ])
        #expect(try await f.store.dueChecks(now: S.hour(1).end, datasets: ["Raw", "Labels"], limit: 1).map(\.dataset) == ["Labels"])
        #expect(try await f.store.dueChecks(now: S.now, datasets: ["Raw"], limit: 10).count == 3)
        #expect(try await f.store.dueChecks(now: S.now, datasets: [], limit: 10).isEmpty)
        #expect(try await f.store.dueChecks(now: S.now, datasets: ["Other"], limit: 10).isEmpty)
        // Checked slices leave the due list until their next check; Ready ones for good.
        let raw = try f.inspector.slices(datasets: ["Raw"])
        try await f.store.recordChecks([checked(raw[0], .absent(detail: "none")), checked(raw[1], .present(Self.data))], now: S.now)
        #expect(try await f.store.dueChecks(now: S.now, datasets: ["Raw"], limit: 10).map(\.id) == [raw[2].id])
        #expect(try await f.store.dueChecks(now: S.now + .minutes(10), datasets: ["Raw"], limit: 10).map(\.id) == [raw[2].id, raw[0].id])
    }

    @Test("waitingBetweenChecks and nextCheckTime", arguments: StoreKind.allCases)
    func betweenChecks(_ kind: StoreKind) async throws {
        let f = try await scenario(kind)
        #expect(try await f.store.nextCheckTime(datasets: ["Raw"]) == S.hour(0).end)
        #expect(try await f.store.nextCheckTime(datasets: []) == nil)
        #expect(try await f.store.nextCheckTime(datasets: ["Other"]) == nil)
        // Never checked: not "between checks".
        #expect(try await f.store.waitingBetweenChecks(datasets: ["Raw"], now: S.t0, limit: 10).isEmpty)
        let raw = try f.inspector.slices(datasets: ["Raw"])
        try await f.store.recordChecks([checked(raw[2], .absent(detail: "none")), checked(raw[0], .absent(detail: "none")),
                                        checked(raw[1], .present(Self.data))], now: S.now)
        let between = try await f.store.waitingBetweenChecks(datasets: ["Raw"], now: S.now, limit: 10)
        #expect(between.map(\.id) == [raw[0].id, raw[2].id])
        #expect(try await f.store.waitingBetweenChecks(datasets: ["Raw"], now: S.now, limit: 1).map(\.id) == [raw[0].id])
        #expect(try await f.store.waitingBetweenChecks(datasets: ["Raw"], now: S.now + .minutes(10), limit: 10).isEmpty)
        #expect(try await f.store.waitingBetweenChecks(datasets: [], now: S.now, limit: 10).isEmpty)
        #expect(try await f.store.nextCheckTime(datasets: ["Raw"]) == S.now + .minutes(10))
        // Ready and Failed slices have no next check.
        let after = try f.inspector.slices(datasets: ["Raw"])
        try await f.store.recordChecks([checked(after[0], .present(Self.data)), checked(after[2], .failed(message: "x", retryable: false))],
                                       now: S.now)
        #expect(try await f.store.nextCheckTime(datasets: ["Raw"]) == nil)
    }
}
