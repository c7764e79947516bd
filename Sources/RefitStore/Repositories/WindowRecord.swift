import RefitCore

/// One row of `windows`: an activity window and its scheduling state.
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

    /// The state machine for this row under `budget` (the activity's current policy).
    public func machine(_ budget: RetryBudget) -> WindowStateMachine {
        WindowStateMachine(status: status, substate: substate, attempts: attempts, longRetryRound: longRetryRound,
                           nextAttemptAt: nextAttemptAt, nextTrigger: nextTrigger, budget: budget)
    }

    static let columns = """
        id, pipeline, activity, window_start, window_end, state, substate, attempts, long_retry_round,
        next_attempt_at, next_trigger, priority, lease_owner, lease_expires_at, definition_sha256, updated_at
        """

    init?(row: Row) {
        guard let id = row.int64("id"), let pipeline = row.string("pipeline"), let activity = row.string("activity"),
              let start = StoreText.instant(row, "window_start"), let end = StoreText.instant(row, "window_end"),
              let status = row.string("state").flatMap(WindowStatus.init(rawValue:)) else { return nil }
        self.id = id
        key = ActivityKey(pipeline: pipeline, activity: activity)
        window = Slice(start: start, end: end)
        self.status = status
        substate = row.string("substate").flatMap(WindowSubstate.init(rawValue:))
        attempts = row.int("attempts") ?? 0
        longRetryRound = row.int("long_retry_round") ?? 0
        nextAttemptAt = StoreText.instant(row, "next_attempt_at")
        nextTrigger = row.string("next_trigger").flatMap(RunTrigger.init(rawValue:)) ?? .schedule
        priority = row.int("priority") ?? 0
        leaseOwner = row.string("lease_owner")
        leaseExpiresAt = StoreText.instant(row, "lease_expires_at")
        definitionSHA256 = row.string("definition_sha256")
        updatedAt = StoreText.instant(row, "updated_at")
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
}
