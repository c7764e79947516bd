import RefitCore

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
