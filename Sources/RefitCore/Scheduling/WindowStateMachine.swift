/// The life of one activity window as a value: every event is a `mutating` method that moves
/// the window to its next ADF state and returns what the shell (the worker and its store) must
/// do. No I/O and no clock: "now" comes in with the event, so the whole transition table is
/// tested without a database.
///
/// Attempts are counted when they *start* (`claimed`), so an attempt lost to a crash (lease
/// expiry) has already consumed budget (D5) and a poison window cannot loop forever.
public struct WindowStateMachine: Hashable, Sendable {
    public private(set) var status: WindowStatus
    public private(set) var substate: WindowSubstate?
    /// Attempts started since the window was created or last rerun, across longRetry rounds.
    public private(set) var attempts: Int
    /// 0-based longRetry round the next attempt belongs to.
    public private(set) var longRetryRound: Int
    /// Earliest time the next attempt may start (due time, retry or longRetry delay); nil once final.
    public private(set) var nextAttemptAt: Instant?
    /// What the next attempt's `runs` row records as its trigger.
    public private(set) var nextTrigger: RunTrigger
    public let budget: RetryBudget

    /// What the shell does after a transition.
    public enum Action: Hashable, Sendable {
        /// Nothing to do (the event did not apply in this state, or only the label changed).
        case none
        /// The window is due: evaluate its input slices (DatasetDependencies).
        case checkDependencies
        /// Every input is ready: the window may be claimed (subject to concurrency caps).
        case becameRunnable
        /// Start attempt number `attempt` now, recording `trigger`.
        case dispatch(attempt: Int, trigger: RunTrigger)
        /// Another attempt is allowed from `at` on (Retry: now; LongRetry: after the interval).
        case scheduleRetry(at: Instant)
        /// The window succeeded: its output slices are Ready, downstream windows may run.
        case markReady
        /// The window is finally Failed; downstream windows stay Waiting (DatasetDependencies).
        case markFailed
        /// The window ended Skipped; like Failed, it does not satisfy dependencies (D7).
        case markSkipped
    }

    /// A freshly materialized window, due at `dueAt` (D4).
    public init(dueAt: Instant, budget: RetryBudget, trigger: RunTrigger = .schedule) {
        self.init(status: .waiting, substate: .scheduleTime, attempts: 0, longRetryRound: 0,
                  nextAttemptAt: dueAt, nextTrigger: trigger, budget: budget)
    }

    /// A window as persisted (the store rebuilds the machine from its row).
    public init(status: WindowStatus, substate: WindowSubstate?, attempts: Int, longRetryRound: Int,
                nextAttemptAt: Instant?, nextTrigger: RunTrigger, budget: RetryBudget) {
        self.status = status; self.substate = substate; self.attempts = attempts
        self.longRetryRound = longRetryRound; self.nextAttemptAt = nextAttemptAt
        self.nextTrigger = nextTrigger; self.budget = budget
    }

    /// Whether an attempt may be claimed at `now` (Waiting, due, not paused).
    public func isClaimable(at now: Instant) -> Bool {
        guard status == .waiting, substate != .activityResume, substate != .scheduleTime, let next = nextAttemptAt else {
            return false
        }
        return next <= now
    }

    // MARK: Time and dependencies

    /// The clock reached `now`: a window waiting for its schedule time starts checking inputs.
    public mutating func timeArrived(_ now: Instant) -> Action {
        guard status == .waiting, substate == .scheduleTime, let next = nextAttemptAt, next <= now else { return .none }
        substate = .datasetDependencies
        return .checkDependencies
    }

    /// Some input slice of the dependency period is not Ready.
    public mutating func dependenciesMissing() -> Action {
        guard status == .waiting, substate != .activityResume, substate != .scheduleTime else { return .none }
        substate = .datasetDependencies
        return .none
    }

    /// Every input slice is Ready. A window still in Retry/LongRetry keeps its label (it is
    /// runnable once `nextAttemptAt` passes); one waiting for dependencies becomes plain Waiting.
    public mutating func dependenciesReady() -> Action {
        guard status == .waiting, substate != .activityResume, substate != .scheduleTime else { return .none }
        if substate == .datasetDependencies || substate == .concurrencyLimit { substate = nil }
        return .becameRunnable
    }

    /// The window was runnable but every slot of its activity (or of the worker) was busy.
    public mutating func concurrencyLimited() -> Action {
        guard status == .waiting, substate != .activityResume, substate != .scheduleTime else { return .none }
        substate = .concurrencyLimit
        return .none
    }

    // MARK: Operator controls

    /// The pipeline was paused (D13): waiting windows wait for resume; running ones finish.
    public mutating func paused() -> Action {
        guard status == .waiting else { return .none }
        substate = .activityResume
        return .none
    }

    /// The pipeline was resumed: re-evaluate inputs (or wait for the schedule time).
    public mutating func resumed(_ now: Instant) -> Action {
        guard status == .waiting, substate == .activityResume else { return .none }
        if let next = nextAttemptAt, next > now, attempts == 0 {
            substate = .scheduleTime
            return .none
        }
        substate = .datasetDependencies
        return .checkDependencies
    }

    /// Rerun (D6): back to Waiting with a fresh retry budget; history keeps earlier attempts.
    /// Refused while an attempt is running.
    public mutating func rerunRequested(_ now: Instant) -> Action {
        guard status != .inProgress else { return .none }
        status = .waiting
        substate = .datasetDependencies
        attempts = 0
        longRetryRound = 0
        nextAttemptAt = now
        nextTrigger = .rerun
        return .checkDependencies
    }

    /// A newer model already serves the endpoint (D14): the window ends Skipped/Superseded.
    public mutating func superseded() -> Action {
        guard status == .waiting || status == .inProgress else { return .none }
        status = .skipped
        substate = .superseded
        nextAttemptAt = nil
        return .markSkipped
    }

    // MARK: Attempts

    /// A worker claimed the window: one more attempt starts now (counted before it runs, D5).
    public mutating func claimed(_ now: Instant) -> Action {
        guard isClaimable(at: now) else { return .none }
        attempts += 1
        status = .inProgress
        substate = nil
        let trigger = nextTrigger
        return .dispatch(attempt: attempts, trigger: trigger)
    }

    /// The running attempt succeeded.
    public mutating func attemptSucceeded() -> Action {
        guard status == .inProgress else { return .none }
        status = .ready
        substate = nil
        nextAttemptAt = nil
        return .markReady
    }

    /// The running attempt failed. Terminal failures end the window at once; retryable ones
    /// use the budget.
    public mutating func attemptFailed(_ classification: FailureClassification, at now: Instant) -> Action {
        guard status == .inProgress else { return .none }
        if classification == .terminal { return fail(nil) }
        return retryOrFail(at: now, finalSubstate: nil)
    }

    /// The running attempt exceeded `policy.timeout`: a failed attempt whose final substate is TimedOut.
    public mutating func attemptTimedOut(at now: Instant) -> Action {
        guard status == .inProgress else { return .none }
        return retryOrFail(at: now, finalSubstate: .timedOut)
    }

    /// The running attempt was canceled by an operator (`pause --terminate`): Failed/Canceled.
    public mutating func attemptCanceled() -> Action {
        guard status == .inProgress else { return .none }
        return fail(.canceled)
    }

    /// The activity decided the window has nothing to do (e.g. D14 Superseded).
    public mutating func attemptSkipped(_ substate: WindowSubstate?) -> Action {
        guard status == .inProgress else { return .none }
        status = .skipped
        self.substate = substate
        nextAttemptAt = nil
        return .markSkipped
    }

    /// The worker running the attempt died (its lease expired). The attempt was counted when
    /// it was claimed, so this only decides whether another one is allowed.
    public mutating func leaseExpired(at now: Instant) -> Action {
        guard status == .inProgress else { return .none }
        return retryOrFail(at: now, finalSubstate: nil)
    }

    /// The worker running the attempt died, and the attempt had recorded an external job that
    /// the next attempt will resume rather than redo: the attempt is given back (not charged),
    /// since the resumed job and its outcome make one attempt. The store allows this once per job,
    /// so a job whose worker keeps dying still uses up the budget.
    public mutating func leaseExpiredResumable(at now: Instant) -> Action {
        guard status == .inProgress else { return .none }
        attempts = max(0, attempts - 1)
        status = .waiting
        substate = .retry
        nextAttemptAt = now
        nextTrigger = .retry
        return .scheduleRetry(at: now)
    }

    /// The worker stopped gracefully before the attempt finished and gave the window back: the
    /// attempt is not charged (the window did nothing wrong), and any worker may resume it now.
    public mutating func released(at now: Instant) -> Action {
        guard status == .inProgress else { return .none }
        attempts = max(0, attempts - 1)
        status = .waiting
        substate = .retry
        nextAttemptAt = now
        return .scheduleRetry(at: now)
    }

    private mutating func retryOrFail(at now: Instant, finalSubstate: WindowSubstate?) -> Action {
        let endOfRound = budget.attemptsPerRound * (longRetryRound + 1)
        if attempts < endOfRound {
            status = .waiting
            substate = .retry
            nextAttemptAt = now
            nextTrigger = .retry
            return .scheduleRetry(at: now)
        }
        if longRetryRound + 1 < budget.rounds {
            longRetryRound += 1
            status = .waiting
            substate = .longRetry
            let at = now + budget.roundInterval
            nextAttemptAt = at
            nextTrigger = .retry
            return .scheduleRetry(at: at)
        }
        return fail(finalSubstate)
    }

    private mutating func fail(_ finalSubstate: WindowSubstate?) -> Action {
        status = .failed
        substate = finalSubstate
        nextAttemptAt = nil
        return .markFailed
    }
}
