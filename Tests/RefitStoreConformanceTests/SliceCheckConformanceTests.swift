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

    @Test("changed data: recent Ready slices page by page; a change is marked once, guarded; a rerun re-checks it",
          arguments: StoreKind.allCases)
    func changedData(_ kind: StoreKind) async throws {
        let f = try await scenario(kind)
        let raw = try f.inspector.slices(datasets: ["Raw"])
        let readyAt = S.now + .minutes(1)
        try await f.store.recordChecks(raw.map { checked($0, .present(Self.data)) }, now: readyAt)
        #expect(try await f.records(S.train, hours: 0..<4).map(\.missingInputs) == [0, 0, 0, 0])

        // Pages within the horizon, in the order they became Ready; older ones are not read.
        let first = try await f.store.readySlices(datasets: ["Raw", "Other"], since: S.now, after: nil, limit: 2)
        #expect(first.map(\.id) == [raw[0].id, raw[1].id])
        let cursor = SliceCursor(dataset: "Raw", readyAt: try #require(first.last?.updatedAt), sliceID: first[1].id)
        #expect(try await f.store.readySlices(datasets: ["Raw", "Other"], since: S.now, after: cursor, limit: 2).map(\.id) == [raw[2].id])
        #expect(try await f.store.readySlices(datasets: ["Raw"], since: readyAt + .minutes(1), after: nil, limit: 10).isEmpty)
        #expect(try await f.store.readySlices(datasets: [], since: S.now, after: nil, limit: 10).isEmpty)

        // Marked only while Ready with the fingerprint compared; once.
        let corrected = DataFingerprint(files: [.init(name: "raw/part-0.csv", size: 2_048, etag: "e2", modified: 2)])
        let changedAt = S.now + .minutes(5)
        let stale = SliceDataChange(sliceID: raw[1].id, recorded: corrected, now: corrected, detail: "stale comparison")
        #expect(try await f.store.recordDataChanges([stale], now: changedAt) == 0)
        let change = SliceDataChange(sliceID: raw[1].id, recorded: Self.data, now: corrected, detail: "the data changed: modified raw/part-0.csv")
        #expect(try await f.store.recordDataChanges([change], now: changedAt) == 1)
        #expect(try await f.store.recordDataChanges([change], now: changedAt + .minutes(1)) == 0)
        let marked = try #require(try f.inspector.slices(datasets: ["Raw"]).first { $0.id == raw[1].id })
        #expect(marked.status == .ready && marked.changedAt == changedAt && marked.fingerprint == Self.data)
        #expect(marked.message == change.detail)
        #expect(try await f.store.readySlices(datasets: ["Raw"], since: S.now, after: nil, limit: 10).map(\.id) == [raw[0].id, raw[2].id])
        // Consumers are not touched by the mark.
        #expect(try await f.records(S.train, hours: 0..<4).map(\.status) == [.waiting, .waiting, .waiting, .waiting])
        #expect(try await f.records(S.train, hours: 0..<4).map(\.missingInputs) == [0, 0, 0, 0])

        // A rerun of a window reading it checks it again; its other Ready input stays Ready.
        try await f.run(S.train, 3, run: "t3")
        let later = S.now + .hours(1)
        #expect(try await f.store.rerun(S.train, start: S.hour(3).start, budget: S.once, reason: "corrected data", now: later))
        let after = try f.inspector.slices(datasets: ["Raw"])
        let rearmed = try #require(after.first { $0.id == raw[1].id })
        #expect(rearmed.status == .waiting && rearmed.substate == .validation && rearmed.checkCount == 0)
        #expect(rearmed.changedAt == nil && rearmed.fingerprint == nil && rearmed.nextCheckAt == later)
        #expect(after.first { $0.id == raw[0].id }?.status == .ready)
        // Every window reading it waits for the new check.
        #expect(try await f.records(S.train, hours: 0..<4).map(\.missingInputs) == [0, 1, 0, 1])
        #expect(try await f.store.dueChecks(now: later, datasets: ["Raw"], limit: 10).map(\.id) == [raw[1].id])
    }
}
