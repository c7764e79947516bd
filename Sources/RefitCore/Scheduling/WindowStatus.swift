/// An activity window's or dataset slice's state, with ADF's names (docs/SEMANTICS.md §5.1), so
/// `refit slices` reads like the ADF monitoring app.
public enum WindowStatus: String, Hashable, Sendable, CaseIterable {
    case waiting = "Waiting", inProgress = "InProgress", ready = "Ready", failed = "Failed", skipped = "Skipped"
}

/// ADF's substates (SDK `DataSliceSubstate`, docs' spelling `ScheduleTime`), plus `LongRetry`
/// (the longRetry text's status) and `Superseded` (D14).
public enum WindowSubstate: String, Hashable, Sendable, CaseIterable {
    case scheduleTime = "ScheduleTime"
    case datasetDependencies = "DatasetDependencies"
    case concurrencyLimit = "ConcurrencyLimit"
    case activityResume = "ActivityResume"
    case retry = "Retry"
    case longRetry = "LongRetry"
    case validation = "Validation"
    case validationRetry = "ValidationRetry"
    case validating = "Validating"
    case timedOut = "TimedOut"
    case canceled = "Canceled"
    case superseded = "Superseded"
}

/// Why an attempt started; recorded on every `runs` row so history tells scheduled work from
/// catch-up, operator reruns and automatic retries.
public enum RunTrigger: String, Hashable, Sendable, CaseIterable {
    case schedule, backfill, rerun, retry
}

/// Whether a failed attempt may be retried. Terminal failures (bad definitions, rejected
/// credentials, "activity not wired") end the window at once: retrying cannot help.
public enum FailureClassification: String, Hashable, Sendable, CaseIterable {
    case retryable, terminal
}
