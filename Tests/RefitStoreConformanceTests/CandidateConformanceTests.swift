import RefitCore
import Testing

/// Which windows a pass may start, in what order, and how their labels follow.
@Suite("SchedulingStore conformance: candidates")
struct CandidateConformanceTests {
    typealias S = Scenario

    @Test("operator priority first, then the activity's order, at most the limit",
          arguments: StoreKind.allCases, ActivityPolicy.PriorityOrder.allCases)
    func ordering(_ kind: StoreKind, _ order: ActivityPolicy.PriorityOrder) async throws {
        let f = try kind.make()
        try await f.runnable(S.train, hours: 0..<6, outputs: ["Model"])
        try await f.runnable(S.score, hours: 0..<2)
        let starts = (0..<6).map { S.hour($0).start }
        let inOrder = order == .oldestFirst ? starts : starts.reversed()
        #expect(try await f.candidateStarts(S.query(S.train, order: order)) == inOrder)
        #expect(try await f.candidateStarts(S.query(S.train, order: order, limit: 2)) == Array(inOrder.prefix(2)))
        #expect(try await f.candidateStarts(S.query(S.train, order: order, limit: 0)).isEmpty)
        // Reruns of windows 1 and 4 (priority 1) come before the rest, in the activity's order.
        try await f.run(S.train, 1, run: "r1")
        try await f.run(S.train, 4, run: "r4")
        #expect(try await f.store.rerun(S.train, start: S.hour(1).start, budget: S.once, reason: "test", now: S.now))
        #expect(try await f.store.rerun(S.train, start: S.hour(4).start, budget: S.once, reason: "test", now: S.now))
        let reruns = order == .oldestFirst ? [starts[1], starts[4]] : [starts[4], starts[1]]
        let rest = inOrder.filter { !reruns.contains($0) }
        #expect(try await f.candidateStarts(S.query(S.train, order: order)) == reruns + rest)
        #expect(try await f.candidateStarts(S.query(S.train, order: order, limit: 3)) == reruns + rest.prefix(1))
        #expect(try await f.candidateStarts(S.query(S.train, order: order, limit: 1)) == Array(reruns.prefix(1)))
    }

    @Test("only windows inside the activity's active period", arguments: StoreKind.allCases)
    func activePeriod(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.runnable(S.train, hours: 0..<6, outputs: ["Model"])
        let starts = (0..<6).map { S.hour($0).start }
        #expect(try await f.candidateStarts(S.query(S.train, activeStart: S.hour(2).start)) == Array(starts[2...]))
        #expect(try await f.candidateStarts(S.query(S.train, activeEnd: S.hour(3).start)) == Array(starts[..<3]))
        #expect(try await f.candidateStarts(S.query(S.train, activeStart: S.hour(1).start, activeEnd: S.hour(2).end)) == [starts[1], starts[2]])
    }

    @Test("leased, paused, not yet due, and windows missing inputs are not candidates", arguments: StoreKind.allCases)
    func exclusions(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let later = S.now + .hours(2)
        // Windows 0...2 runnable; window 3 reads Raw; window 30 is due only later (ScheduleTime).
        try await f.runnable(S.train, hours: 0..<3, outputs: ["Model"])
        try await f.materialize(S.train, hours: 3..<4, outputs: ["Model"])
        try await f.resolve(S.train, hours: 3..<4) { [S.external("Raw", $0)] }
        try await f.materialize(S.train, hours: 30..<31, outputs: ["Model"])
        try await f.resolve(S.train, hours: 30..<31)
        let notDue = try await f.record(S.train, 30)
        #expect(notDue.substate == .scheduleTime)
        #expect(notDue.missingInputs == 0)
        let first = try await f.record(S.train, 0)
        _ = try #require(try await f.claim(first.id, run: "r0", now: later))
        #expect(try await f.candidateStarts(S.query(S.train), now: later) == [S.hour(1).start, S.hour(2).start])
        // Not due yet by its next attempt time either: window 1 waits an hour for its retry round.
        let slow = RetryBudget(attemptsPerRound: 1, rounds: 2, roundInterval: .hours(1))
        try await f.run(S.train, 1, run: "r1", .failed(.retryable, message: "flaky"), budget: slow, now: later)
        #expect(try await f.record(S.train, 1).substate == .longRetry)
        #expect(try await f.candidateStarts(S.query(S.train), now: later) == [S.hour(2).start])
        #expect(try await f.candidateStarts(S.query(S.train), now: later + .hours(1)) == [S.hour(1).start, S.hour(2).start])
        // Paused: nothing of the pipeline; other pipelines unaffected.
        try await f.runnable(S.score, hours: 0..<1)
        #expect(try await f.store.applyPause(pipeline: "P", paused: true, now: later) == 4)
        #expect(try await f.store.candidates(S.query(S.train), now: later + .hours(1)).isEmpty)
        #expect(try await f.candidateStarts(S.query(S.score), now: later) == [S.hour(0).start])
    }

    // A window materialized before its due time is labelled ScheduleTime; once due (its
    // next attempt time passed) it is a candidate, and the claim clears the label.
    @Test("a window materialized before its due time becomes a candidate once due", arguments: StoreKind.allCases)
    func scheduleTimeOnceDue(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.materialize(S.train, hours: 0..<1, outputs: ["Model"], now: S.t0)
        #expect(try await f.resolve(S.train, hours: 0..<1, now: S.t0)[0].substate == .scheduleTime)
        #expect(try await f.store.candidates(S.query(S.train), now: S.t0).isEmpty)
        let due = try await f.candidateStarts(S.query(S.train), now: S.hour(0).end)
        #expect(due == [S.hour(0).start])
        let claimed = try #require(try await f.claim(try await f.record(S.train, 0).id, run: "due", now: S.hour(0).end))
        #expect(claimed.attempt == 1)
    }

    @Test("labelConcurrencyLimited labels unlabelled runnable windows, at most the limit", arguments: StoreKind.allCases)
    func concurrencyLabels(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.runnable(S.train, hours: 0..<4, outputs: ["Model"])
        try await f.materialize(S.train, hours: 4..<5, outputs: ["Model"])
        try await f.resolve(S.train, hours: 4..<5) { [S.external("Raw", $0)] }
        #expect(try await f.store.labelConcurrencyLimited(S.query(S.train), limit: 0, now: S.now) == 0)
        #expect(try await f.store.labelConcurrencyLimited(S.query(S.train), limit: 3, now: S.now) == 3)
        #expect(try await f.store.labelConcurrencyLimited(S.query(S.train), limit: 10, now: S.now) == 1)
        #expect(try await f.store.labelConcurrencyLimited(S.query(S.train), limit: 10, now: S.now) == 0)
        let labels = try await f.records(S.train, hours: 0..<5).map(\.substate)
        #expect(labels == [.concurrencyLimit, .concurrencyLimit, .concurrencyLimit, .concurrencyLimit, .datasetDependencies])
        // Labelled windows are still candidates, and a claim clears the label.
        #expect(try await f.candidateStarts(S.query(S.train)).count == 4)
        let claimed = try #require(try await f.claim(try await f.record(S.train, 0).id, run: "r0"))
        #expect(try await f.store.window(id: claimed.windowID)?.substate == nil)
    }

    @Test("runningCounts counts InProgress windows per activity across workers", arguments: StoreKind.allCases)
    func runningCounts(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let train = try await f.runnable(S.train, hours: 0..<3, outputs: ["Model"])
        let score = try await f.runnable(S.score, hours: 0..<1)
        #expect(try await f.store.runningCounts().isEmpty)
        _ = try #require(try await f.claim(train[0].id, run: "a", worker: "w1"))
        _ = try #require(try await f.claim(train[1].id, run: "b", worker: "w2"))
        _ = try #require(try await f.claim(score[0].id, run: "c", worker: "w2"))
        #expect(try await f.store.runningCounts() == [S.train: 2, S.score: 1])
        try await f.finish("a")
        #expect(try await f.store.runningCounts() == [S.train: 1, S.score: 1])
    }
}
