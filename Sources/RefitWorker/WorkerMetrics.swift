import CoreMetrics
import RefitCore

/// What the worker reports through swift-metrics. The names and labels are the ones `/metrics`
/// serves (README, *Metrics*); the backend is whatever the process bootstrapped (Prometheus in
/// `refit`), or the factory given for tests.
public struct WorkerMetrics: Sendable {
    public enum Name {
        public static let attemptsStarted = "refit_attempts_started_total"
        public static let attemptsFinished = "refit_attempts_finished_total"
        public static let attemptDuration = "refit_attempt_duration_seconds"
        public static let retries = "refit_retries_total"
        public static let leaseRecoveries = "refit_lease_recoveries_total"
        public static let deployments = "refit_deployments_total"
        public static let sliceChecks = "refit_slice_checks_total"
        public static let sliceCheckDuration = "refit_slice_check_duration_seconds"
        public static let passDuration = "refit_pass_duration_seconds"
    }

    /// nil: `MetricsSystem.factory` when a metric is recorded (so a bootstrap after this value
    /// was made still counts).
    public var factory: (any MetricsFactory)?

    public init(factory: (any MetricsFactory)? = nil) { self.factory = factory }

    var resolved: any MetricsFactory { factory ?? MetricsSystem.factory }

    func attemptStarted(_ key: ActivityKey, trigger: RunTrigger) {
        let labels = Self.labels(key)
        Counter(label: Name.attemptsStarted, dimensions: labels, factory: resolved).increment()
        if trigger == .retry { Counter(label: Name.retries, dimensions: labels, factory: resolved).increment() }
    }

    /// `outcome` is the run's status as history records it (`Succeeded`, `Failed`, `TimedOut`,
    /// `Canceled`, `Skipped`), or `Released` (shutdown) / `LeaseLost`.
    func attemptFinished(_ key: ActivityKey, outcome: String, duration: Duration) {
        Counter(label: Name.attemptsFinished, dimensions: Self.labels(key) + [("outcome", outcome)], factory: resolved).increment()
        CoreMetrics.Timer(label: Name.attemptDuration, dimensions: Self.labels(key), factory: resolved).recordNanoseconds(duration.nanoseconds)
    }

    func leaseRecovered(_ key: ActivityKey) {
        Counter(label: Name.leaseRecoveries, dimensions: Self.labels(key), factory: resolved).increment()
    }

    /// `kind`: `deploy`, `forced`, `rollback`, `superseded` or `skipped`.
    func deployment(_ key: ActivityKey, kind: String) {
        Counter(label: Name.deployments, dimensions: Self.labels(key) + [("kind", kind)], factory: resolved).increment()
    }

    /// One probe call of a storage kind, and the slices it checked by what they were found.
    func sliceChecks(kind: Dataset.Kind, results: [String: Int], duration: Duration) {
        CoreMetrics.Timer(label: Name.sliceCheckDuration, dimensions: [("kind", kind.rawValue)], factory: resolved)
            .recordNanoseconds(duration.nanoseconds)
        for (result, count) in results.sorted(by: { $0.key < $1.key }) where count > 0 {
            Counter(label: Name.sliceChecks, dimensions: [("kind", kind.rawValue), ("result", result)], factory: resolved)
                .increment(by: Int64(count))
        }
    }

    func pass(duration: Duration) {
        CoreMetrics.Timer(label: Name.passDuration, dimensions: [], factory: resolved).recordNanoseconds(duration.nanoseconds)
    }

    static func labels(_ key: ActivityKey) -> [(String, String)] {
        [("pipeline", key.pipeline), ("activity", key.activity)]
    }

    /// The deployment kind an update attempt's outcome counts as, or nil (not a deployment).
    static func deploymentKind(_ outcome: AttemptOutcome) -> String? {
        switch outcome {
        case .succeeded(let result):
            guard let deployment = result.deployment else { return nil }
            if deployment.reason == "rollback" { return "rollback" }
            return deployment.forced ? "forced" : "deploy"
        case .skipped(let substate, _):
            return substate == .superseded ? "superseded" : "skipped"
        case .failed, .timedOut, .canceled:
            return nil
        }
    }

    /// The run status history records for an outcome.
    static func outcomeLabel(_ outcome: AttemptOutcome) -> String {
        switch outcome {
        case .succeeded: "Succeeded"
        case .failed: "Failed"
        case .timedOut: "TimedOut"
        case .canceled: "Canceled"
        case .skipped: "Skipped"
        }
    }
}

extension Duration {
    /// Whole nanoseconds (saturating), for swift-metrics' `Timer`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

/// How the run loop is doing, for a health check (`/healthz`): whether it runs, when it last
/// showed life (a pass ended, or a sleeping loop polled the database), and whether its latest
/// pass failed.
public struct WorkerHealth: Sendable, Equatable {
    /// Between `run`'s start and its end.
    public var running = false
    public var lastPassEndedAt: ContinuousClock.Instant?
    /// The latest sign of life: a pass ended, or the sleeping loop read the database.
    public var lastBeatAt: ContinuousClock.Instant?
    /// The error of the latest pass when it failed; nil after a pass that succeeded.
    public var lastPassError: String?

    public init() {}
}

extension WorkerHealth {
    /// nil while healthy; otherwise one sentence saying why not: the loop is not running, its
    /// latest pass failed, or it showed no sign of life (a pass ending, or a poll of the database
    /// while it sleeps — about once a `changePollInterval`) for longer than `staleAfter`.
    public func unhealthyReason(now: ContinuousClock.Instant, staleAfter: Duration) -> String? {
        guard running else { return "The worker loop is not running." }
        if let lastPassError {
            let line = lastPassError.split(whereSeparator: \.isNewline).joined(separator: " ")
            return "The latest scheduling pass failed: \(line)"
        }
        guard let lastBeatAt else { return "The worker loop has not run a pass yet." }
        let quiet = now - lastBeatAt
        guard quiet <= staleAfter else {
            return "The worker loop has shown no sign of life for \(quiet.components.seconds) s (the limit is \(staleAfter.components.seconds) s)."
        }
        return nil
    }

    /// How long the loop may stay quiet before it counts as stuck: three polls of the database,
    /// and never less than 30 s.
    public static func staleAfter(pollInterval: Duration) -> Duration {
        max(pollInterval * 3, .seconds(30))
    }
}
