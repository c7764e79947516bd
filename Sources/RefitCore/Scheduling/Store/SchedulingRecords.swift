/// One activity window and its scheduling state, as a store holds it.
public struct WindowRecord: Hashable, Sendable {
    public var id: Int64
    public var key: ActivityKey
    public var window: Slice
    public var status: WindowStatus
    public var substate: WindowSubstate?
    public var attempts: Int
    public var longRetryRound: Int
    public var nextAttemptAt: Instant?
    public var nextTrigger: RunTrigger
    public var priority: Int
    public var leaseOwner: String?
    public var leaseExpiresAt: Instant?
    public var definitionSHA256: String?
    public var updatedAt: Instant?
    /// Input slices not Ready yet; nil while the inputs are not resolved.
    public var missingInputs: Int?

    public init(id: Int64, key: ActivityKey, window: Slice, status: WindowStatus, substate: WindowSubstate?, attempts: Int,
                longRetryRound: Int, nextAttemptAt: Instant?, nextTrigger: RunTrigger, priority: Int, leaseOwner: String?,
                leaseExpiresAt: Instant?, definitionSHA256: String?, updatedAt: Instant?, missingInputs: Int?) {
        self.id = id; self.key = key; self.window = window; self.status = status; self.substate = substate
        self.attempts = attempts; self.longRetryRound = longRetryRound; self.nextAttemptAt = nextAttemptAt
        self.nextTrigger = nextTrigger; self.priority = priority; self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt; self.definitionSHA256 = definitionSHA256; self.updatedAt = updatedAt
        self.missingInputs = missingInputs
    }

    /// The state machine for this row under `budget` (the activity's current policy).
    public func machine(_ budget: RetryBudget) -> WindowStateMachine {
        WindowStateMachine(status: status, substate: substate, attempts: attempts, longRetryRound: longRetryRound,
                           nextAttemptAt: nextAttemptAt, nextTrigger: nextTrigger, budget: budget)
    }
}

/// One external dataset slice and its availability checks, as a store holds it.
public struct SliceRecord: Hashable, Sendable {
    public var id: Int64
    public var dataset: String
    public var slice: Slice
    public var status: WindowStatus
    public var substate: WindowSubstate?
    public var fingerprint: DataFingerprint?
    public var checkCount: Int
    public var nextCheckAt: Instant?
    public var message: String?
    public var updatedAt: Instant?
    /// When a re-verification found the data of this Ready slice changed (or gone) since it
    /// became Ready; nil when unchanged. Windows that read it are not re-run on their own.
    public var changedAt: Instant?

    public init(id: Int64, dataset: String, slice: Slice, status: WindowStatus, substate: WindowSubstate?,
                fingerprint: DataFingerprint?, checkCount: Int, nextCheckAt: Instant?, message: String?, updatedAt: Instant?,
                changedAt: Instant? = nil) {
        self.id = id; self.dataset = dataset; self.slice = slice; self.status = status; self.substate = substate
        self.fingerprint = fingerprint; self.checkCount = checkCount; self.nextCheckAt = nextCheckAt
        self.message = message; self.updatedAt = updatedAt; self.changedAt = changedAt
    }

    /// The check state machine for this row under the dataset's current policies.
    public func check(policy: Dataset.ExternalDataPolicy?, validation: Dataset.ValidationPolicy?) -> ExternalSliceCheck {
        ExternalSliceCheck(status: status, substate: substate, checkCount: checkCount, nextCheckAt: nextCheckAt,
                           fingerprint: fingerprint, lastMessage: message, policy: policy ?? Dataset.ExternalDataPolicy(),
                           validation: validation)
    }
}

/// A window to create: its interval, due time and the trigger its first run records.
public struct NewWindow: Hashable, Sendable {
    public var window: Slice
    public var dueAt: Instant
    public var trigger: RunTrigger
    public init(window: Slice, dueAt: Instant, trigger: RunTrigger) {
        self.window = window; self.dueAt = dueAt; self.trigger = trigger
    }
}

/// The input slices of one window, resolved from the definitions by the worker.
public struct WindowInputs: Hashable, Sendable {
    public var windowID: Int64
    /// nil when the inputs cannot be resolved (an undefined dataset, a bad dependency period):
    /// the window is never runnable with these definitions.
    public var inputs: [InputSlice]?
    public init(windowID: Int64, inputs: [InputSlice]?) { self.windowID = windowID; self.inputs = inputs }
}

/// One slice a window reads.
public struct InputSlice: Hashable, Sendable {
    public var dataset: String
    public var slice: Slice
    /// For an external dataset, the slice's first check (used when the slice row is created);
    /// nil for a dataset produced by an activity.
    public var external: ExternalSliceCheck?
    public init(dataset: String, slice: Slice, external: ExternalSliceCheck?) {
        self.dataset = dataset; self.slice = slice; self.external = external
    }
}

/// Which windows of one activity a pass may start, and in what order.
public struct CandidateQuery: Hashable, Sendable {
    public var key: ActivityKey
    /// The activity's active period as defined now: windows outside it are not claimed.
    public var activeStart: Instant
    public var activeEnd: Instant?
    public var order: ActivityPolicy.PriorityOrder
    public var limit: Int
    public init(key: ActivityKey, activeStart: Instant, activeEnd: Instant?, order: ActivityPolicy.PriorityOrder, limit: Int) {
        self.key = key; self.activeStart = activeStart; self.activeEnd = activeEnd; self.order = order; self.limit = limit
    }

    /// Whether `record` lies in the active period.
    public func contains(_ record: WindowRecord) -> Bool {
        record.window.start >= activeStart && (activeEnd.map { record.window.start < $0 } ?? true)
    }
}

/// What a claim needs besides the window: who claims, for how long, under which caps.
public struct ClaimRequest: Hashable, Sendable {
    public var windowID: Int64
    public var workerID: String
    public var runID: String
    public var leaseDuration: TimeSpan
    public var concurrency: Int
    public var budget: RetryBudget
    public var definitionSHA256: String
    /// The deployment endpoint the attempt will update, if any: the claim then also asks for
    /// its lock, in the same transaction, as `claimEndpoint` would for the claimed window's
    /// model, and says how that went in `ClaimedAttempt.endpointClaim`. A busy endpoint does
    /// not stop the claim; the attempt asks again itself.
    public var endpoint: String?
    public init(windowID: Int64, workerID: String, runID: String, leaseDuration: TimeSpan, concurrency: Int,
                budget: RetryBudget, definitionSHA256: String, endpoint: String? = nil) {
        self.windowID = windowID; self.workerID = workerID; self.runID = runID; self.leaseDuration = leaseDuration
        self.concurrency = concurrency; self.budget = budget; self.definitionSHA256 = definitionSHA256
        self.endpoint = endpoint
    }
}

/// An attempt that a claim started: what the worker hands its runner.
public struct ClaimedAttempt: Hashable, Sendable {
    public var windowID: Int64
    public var key: ActivityKey
    public var window: Slice
    public var runID: String
    public var attempt: Int
    public var trigger: RunTrigger
    public var definitionSHA256: String
    public var leaseExpiresAt: Instant
    /// How the request's `endpoint` lock went; nil when the request named no endpoint.
    public var endpointClaim: EndpointClaim?
    public init(windowID: Int64, key: ActivityKey, window: Slice, runID: String, attempt: Int, trigger: RunTrigger,
                definitionSHA256: String, leaseExpiresAt: Instant, endpointClaim: EndpointClaim? = nil) {
        self.windowID = windowID; self.key = key; self.window = window; self.runID = runID; self.attempt = attempt
        self.trigger = trigger; self.definitionSHA256 = definitionSHA256; self.leaseExpiresAt = leaseExpiresAt
        self.endpointClaim = endpointClaim
    }
}

/// What finishing an attempt did to its window.
public struct FinishedAttempt: Hashable, Sendable {
    public var windowID: Int64
    public var status: WindowStatus
    public var substate: WindowSubstate?
    public var action: WindowStateMachine.Action
    /// false when the lease had been lost (another worker recovered the window): the late
    /// result was recorded in the audit log only.
    public var applied: Bool
    public init(windowID: Int64, status: WindowStatus, substate: WindowSubstate?, action: WindowStateMachine.Action, applied: Bool) {
        self.windowID = windowID; self.status = status; self.substate = substate; self.action = action; self.applied = applied
    }
}

/// One external slice check to record, with the row version it was decided from.
public struct SliceCheckUpdate: Hashable, Sendable {
    public var sliceID: Int64
    /// The check count the decision was made from: the update applies only if it is unchanged.
    public var seenCheckCount: Int
    public var check: ExternalSliceCheck
    public init(sliceID: Int64, seenCheckCount: Int, check: ExternalSliceCheck) {
        self.sliceID = sliceID; self.seenCheckCount = seenCheckCount; self.check = check
    }
}

/// What a store decided about an endpoint's deployment lock.
public enum EndpointClaim: Hashable, Sendable {
    /// This run holds the endpoint until it ends, and no newer window's model serves it.
    case acquired
    /// A model trained on the newer window starting here already serves the endpoint.
    case superseded(servingWindowStart: Instant)
    /// Another InProgress attempt holds the endpoint; ask again shortly.
    case busy(holderRunID: String)

    /// The rule every store applies to an endpoint's lock (D14, D15), from the facts it reads,
    /// asked in this order and only as far as needed:
    /// - `holder`: another InProgress run holding the lock → busy;
    /// - `unsettledPatch`: an ended run whose PATCH to the endpoint has no recorded outcome and
    ///   may still land → busy;
    /// - `serving`: the window of the model serving the endpoint, when newer than this one's →
    ///   superseded;
    /// - `inDoubt`: a newer window whose PATCH may have taken effect unrecorded → superseded;
    /// - otherwise acquired (the store then writes the lock in the same transaction).
    public static func decide(modelWindowStart: Instant,
                              holder: () throws -> String?,
                              unsettledPatch: () throws -> String?,
                              serving: () throws -> Instant?,
                              inDoubt: () throws -> Instant?) rethrows -> EndpointClaim {
        if let holder = try holder() { return .busy(holderRunID: holder) }
        if let inFlight = try unsettledPatch() { return .busy(holderRunID: inFlight) }
        if let serving = try serving(), serving > modelWindowStart { return .superseded(servingWindowStart: serving) }
        if let newer = try inDoubt() { return .superseded(servingWindowStart: newer) }
        return .acquired
    }
}

/// An operator's request to cancel a running attempt.
public struct CancelRequest: Hashable, Sendable {
    public var runID: String
    public var actor: String
    public var reason: String?
    public var requestedAt: Instant
    public init(runID: String, actor: String, reason: String?, requestedAt: Instant) {
        self.runID = runID; self.actor = actor; self.reason = reason; self.requestedAt = requestedAt
    }

    /// One sentence for history and logs.
    public var message: String { "Canceled by \(actor)" + (reason.map { ": \($0)" } ?? ".") }
}

/// What `requestCancel` found.
public enum CancelRequestResult: Hashable, Sendable {
    /// Recorded; the worker running the attempt (this lease owner) will stop it.
    case requested(owner: String?)
    /// No attempt with this run id exists.
    case unknownRun
    /// The attempt is not running (it ended with this status).
    case notRunning(status: String)
}
