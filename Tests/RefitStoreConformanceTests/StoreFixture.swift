import RefitCore
import Testing

/// A fresh store of one kind, with the steps scenarios repeat.
struct StoreFixture: Sendable {
    let kind: StoreKind
    let store: any SchedulingStore
    let inspector: any StoreInspector

    /// Materializes the hourly windows `hours` of `key` (each due at its end) and returns them.
    @discardableResult
    func materialize(_ key: ActivityKey, hours: Range<Int>, outputs: [String] = [], trigger: RunTrigger = .schedule,
                     budget: RetryBudget = Scenario.once, now: Instant = Scenario.now) async throws -> [WindowRecord] {
        let windows = hours.map { NewWindow(window: Scenario.hour($0), dueAt: Scenario.hour($0).end, trigger: trigger) }
        _ = try await store.materialize(key, windows: windows, until: Scenario.hour(hours.upperBound - 1).end, outputs: outputs,
                                        definitionSHA256: Scenario.sha, budget: budget, now: now)
        return try await records(key, hours: hours)
    }

    /// Records the inputs of each window (`inputs(hour index)`), then returns the windows again.
    @discardableResult
    func resolve(_ key: ActivityKey, hours: Range<Int>, now: Instant = Scenario.now,
                 inputs: (Int) -> [InputSlice]? = { _ in [] }) async throws -> [WindowRecord] {
        var entries: [WindowInputs] = []
        for index in hours {
            let record = try #require(try await store.window(key, start: Scenario.hour(index).start))
            entries.append(WindowInputs(windowID: record.id, inputs: inputs(index)))
        }
        try await store.recordInputs(entries, now: now)
        return try await records(key, hours: hours)
    }

    /// Windows of `key` that can run at once: materialized with no inputs.
    @discardableResult
    func runnable(_ key: ActivityKey, hours: Range<Int>, outputs: [String] = [], budget: RetryBudget = Scenario.once,
                  now: Instant = Scenario.now) async throws -> [WindowRecord] {
        try await materialize(key, hours: hours, outputs: outputs, budget: budget, now: now)
        return try await resolve(key, hours: hours, now: now)
    }

    func records(_ key: ActivityKey, hours: Range<Int>) async throws -> [WindowRecord] {
        var found: [WindowRecord] = []
        for index in hours { found.append(try #require(try await store.window(key, start: Scenario.hour(index).start))) }
        return found
    }

    func record(_ key: ActivityKey, _ index: Int) async throws -> WindowRecord {
        try #require(try await store.window(key, start: Scenario.hour(index).start))
    }

    func claim(_ windowID: Int64, run: String, worker: String = "w1", concurrency: Int = 100, budget: RetryBudget = Scenario.once,
               lease: TimeSpan = .minutes(5), endpoint: String? = nil, now: Instant = Scenario.now) async throws -> ClaimedAttempt? {
        try await store.claim(ClaimRequest(windowID: windowID, workerID: worker, runID: run, leaseDuration: lease,
                                           concurrency: concurrency, budget: budget, definitionSHA256: Scenario.sha,
                                           endpoint: endpoint), now: now)
    }

    @discardableResult
    func finish(_ run: String, _ outcome: AttemptOutcome = Scenario.success(), worker: String = "w1",
                budget: RetryBudget = Scenario.once, now: Instant = Scenario.now) async throws -> FinishedAttempt? {
        try await store.finish(runID: run, workerID: worker, outcome: outcome, budget: budget, now: now)
    }

    /// Claims and finishes one attempt of the window `index` of `key`.
    @discardableResult
    func run(_ key: ActivityKey, _ index: Int, run: String, _ outcome: AttemptOutcome = Scenario.success(),
             budget: RetryBudget = Scenario.once, now: Instant = Scenario.now) async throws -> FinishedAttempt? {
        let record = try await record(key, index)
        _ = try #require(try await claim(record.id, run: run, budget: budget, now: now))
        return try await finish(run, outcome, budget: budget, now: now)
    }

    func candidateStarts(_ query: CandidateQuery, now: Instant = Scenario.now) async throws -> [Instant] {
        try await store.candidates(query, now: now).map(\.window.start)
    }
}
