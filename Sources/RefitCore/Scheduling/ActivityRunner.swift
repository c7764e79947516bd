import Foundation
/// Executes one attempt of one activity window. The worker owns scheduling, leases, retries
/// and history; a runner only does the work (submit a BES job, PATCH an endpoint, run a
/// command) and says how it ended. It lives in RefitCore so the worker and the activity kinds
/// meet here without depending on each other.
///
/// A runner must honour task cancellation (the worker cancels on timeout and on shutdown after
/// the grace period) and must be idempotent per `(window, runID)`: after a crash a later attempt
/// of the same window runs again and should resume from its journal.
public protocol ActivityRunner: Sendable {
    func run(_ attempt: AttemptContext) async -> AttemptOutcome
    /// The deployment endpoint an attempt of `activity` updates under its lock, when the runner
    /// can tell before the attempt starts: the worker's claim then takes the lock in its own
    /// transaction (`ClaimRequest.endpoint`) and hands the result over as
    /// `AttemptContext.endpointClaim`. nil (the default) when the activity deploys nothing.
    func endpoint(of activity: Activity, in factory: Factory) -> String?
}

extension ActivityRunner {
    public func endpoint(of activity: Activity, in factory: Factory) -> String? { nil }
}

/// Everything a runner needs to know about the attempt it executes.
public struct AttemptContext: Sendable {
    public var factory: Factory
    public var pipeline: Pipeline
    public var activity: Activity
    public var window: Slice
    /// 1-based attempt within the window's current retry budget.
    public var attempt: Int
    /// The `runs` row of this attempt (journal steps hang off it).
    public var runID: String
    public var trigger: RunTrigger
    /// sha256 of the pipeline definition the window runs with.
    public var definitionSHA256: String
    /// `policy.timeout` after the moment of the claim, on `clock` (to the clock's precision, not
    /// Refit's whole seconds, so an attempt gets its whole timeout); nil when the timeout is
    /// infinite. The worker enforces it (cancels the runner and records TimedOut); runners may
    /// use it to bound their polling.
    public var deadline: WallInstant?
    public var workerID: String
    /// The worker's clock: runners wait, poll and check the deadline on it (never on another
    /// clock, so their view of the deadline is the worker's).
    public var clock: any WallClock
    /// Why the worker is stopping the attempt, set before it cancels the runner's task: a
    /// runner cleans up according to it (an operator's cancel DELETEs the external job; a
    /// shutdown leaves it running for the next attempt to resume).
    public var stop: AttemptStop
    /// The endpoint lock the claim took for this attempt (see `ActivityRunner.endpoint(of:in:)`);
    /// nil when it took none, and the runner asks for it itself.
    public var endpointClaim: EndpointClaim?

    public init(factory: Factory, pipeline: Pipeline, activity: Activity, window: Slice, attempt: Int, runID: String,
                trigger: RunTrigger, definitionSHA256: String, deadline: WallInstant?, workerID: String,
                clock: any WallClock = SystemWallClock(), stop: AttemptStop = AttemptStop()) {
        self.factory = factory; self.pipeline = pipeline; self.activity = activity; self.window = window
        self.attempt = attempt; self.runID = runID; self.trigger = trigger
        self.definitionSHA256 = definitionSHA256; self.deadline = deadline; self.workerID = workerID
        self.clock = clock
        self.stop = stop
    }
}

/// Why a running attempt is being stopped, shared between the worker and the runner.
public final class AttemptStop: @unchecked Sendable {
    public enum Reason: Hashable, Sendable {
        /// An operator canceled it (`refit cancel`, `pause --terminate`): the external job is
        /// DELETEd and the attempt recorded Canceled.
        case canceledByOperator(message: String)
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var value: Reason?

    public init() {}

    public var reason: Reason? { lock.withLock { value } }

    public func request(_ reason: Reason) { lock.withLock { if value == nil { value = reason } } }

    /// Whether an operator asked for the attempt to be canceled.
    public var isCanceledByOperator: Bool {
        if case .canceledByOperator = reason { return true }
        return false
    }
}

/// How an attempt ended. Failures carry one redacted sentence: never a secret.
public enum AttemptOutcome: Hashable, Sendable {
    case succeeded(AttemptResult)
    case failed(FailureClassification, message: String)
    /// The runner itself gave up at the deadline (the worker also enforces `policy.timeout`).
    case timedOut(message: String)
    /// Stopped by an operator (`pause --terminate`): Failed/Canceled, no retry.
    case canceled(message: String)
    /// Nothing to do for this window, e.g. `.superseded` (D14); the reason is recorded.
    case skipped(WindowSubstate?, reason: String)
}

extension AttemptOutcome {
    /// One line for logs and audit events (messages are already redacted).
    public var summary: String {
        switch self {
        case .succeeded: "Succeeded"
        case .failed(let c, let m): "Failed (\(c.rawValue)): \(m)"
        case .timedOut(let m): "TimedOut: \(m)"
        case .canceled(let m): "Canceled: \(m)"
        case .skipped(let s, let r): "Skipped (\(s?.rawValue ?? "-")): \(r)"
        }
    }
}

/// What a successful attempt produced. Written with the window's Ready state in one transaction.
public struct AttemptResult: Hashable, Sendable {
    /// Trained models and other outputs (deterministic locations per window).
    public var outputs: [ProducedOutput]
    /// Metrics or a summary as a JSON document; nil when there is nothing to report.
    public var resultJSON: String?
    /// The external job that did the work (e.g. a BES job id), for history.
    public var externalJobID: String?
    /// A model now serving on an endpoint (update-resource activities).
    public var deployment: ProducedDeployment?

    public init(outputs: [ProducedOutput] = [], resultJSON: String? = nil, externalJobID: String? = nil,
                deployment: ProducedDeployment? = nil) {
        self.outputs = outputs; self.resultJSON = resultJSON; self.externalJobID = externalJobID
        self.deployment = deployment
    }
}

/// One output of a run (a trained model, an evaluation).
public struct ProducedOutput: Hashable, Sendable {
    public var name: String
    public var location: String
    /// Evaluation metrics as JSON.
    public var evaluationJSON: String?
    public init(name: String, location: String, evaluationJSON: String? = nil) {
        self.name = name; self.location = location; self.evaluationJSON = evaluationJSON
    }
}

/// A deployment made by the attempt: which model serves where, trained on which window.
/// Recording it is refused (→ Skipped/Superseded) when a model of a newer window serves (D14).
public struct ProducedDeployment: Hashable, Sendable {
    public var endpoint: String
    public var modelLocation: String
    public var modelWindow: Slice
    /// 'schedule', 'backfill', 'rerun', 'force', 'rollback' or a sentence.
    public var reason: String
    public var forced: Bool
    public init(endpoint: String, modelLocation: String, modelWindow: Slice, reason: String, forced: Bool = false) {
        self.endpoint = endpoint; self.modelLocation = modelLocation; self.modelWindow = modelWindow
        self.reason = reason; self.forced = forced
    }
}
