import RefitCore
import Testing

/// The shared vocabulary of the conformance scenarios: a pipeline `P` whose `Train` activity
/// reads the external dataset `Raw` and produces `Model`, which `Deploy` reads to produce
/// `Deployed`; a second pipeline `Q`; hourly windows from 2026-01-01, each due at its end; and
/// "now" a day later, when the first day's windows are all due.
enum Scenario {
    static let t0 = Instant(year: 2026, month: 1, day: 1)
    static let now = t0 + .days(1)
    static let sha = String(repeating: "ab", count: 32)
    static let train = ActivityKey(pipeline: "P", activity: "Train")
    static let deploy = ActivityKey(pipeline: "P", activity: "Deploy")
    static let score = ActivityKey(pipeline: "Q", activity: "Score")
    /// One attempt, no retry (ADF's default policy).
    static let once = RetryBudget(ActivityPolicy())

    static func hour(_ index: Int) -> Slice {
        Slice(start: t0 + .hours(Int64(index)), end: t0 + .hours(Int64(index) + 1))
    }

    /// An input slice of an external dataset, with its first check.
    static func external(_ dataset: String, _ index: Int, policy: Dataset.ExternalDataPolicy? = nil) -> InputSlice {
        InputSlice(dataset: dataset, slice: hour(index), external: ExternalSliceCheck(slice: hour(index), policy: policy, validation: nil))
    }

    /// An input slice of a dataset an activity produces.
    static func produced(_ dataset: String, _ index: Int) -> InputSlice {
        InputSlice(dataset: dataset, slice: hour(index), external: nil)
    }

    static func query(_ key: ActivityKey, order: ActivityPolicy.PriorityOrder = .oldestFirst, limit: Int = 100,
                      activeStart: Instant = t0, activeEnd: Instant? = nil) -> CandidateQuery {
        CandidateQuery(key: key, activeStart: activeStart, activeEnd: activeEnd, order: order, limit: limit)
    }

    static func success(deploying deployment: ProducedDeployment? = nil, job: String? = nil) -> AttemptOutcome {
        .succeeded(AttemptResult(outputs: [ProducedOutput(name: "model", location: "models/\(deployment?.modelWindow.start.iso8601 ?? "x")")],
                                 resultJSON: #"{"rmse":1.5}"#, externalJobID: job, deployment: deployment))
    }
}

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
               lease: TimeSpan = .minutes(5), now: Instant = Scenario.now) async throws -> ClaimedAttempt? {
        try await store.claim(ClaimRequest(windowID: windowID, workerID: worker, runID: run, leaseDuration: lease,
                                           concurrency: concurrency, budget: budget, definitionSHA256: Scenario.sha), now: now)
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
