/// Everything the worker asks of its database, as one async protocol. The worker decides; the
/// store persists. Every transition a method applies is decided by `WindowStateMachine` or
/// `ExternalSliceCheck` (RefitCore); an implementation only checks that the row is still what
/// the machine saw (so two workers on one database can never both win) and enforces the
/// concurrency caps in the same atomic step.
///
/// Readiness is kept incrementally: when a window's inputs are recorded (`recordInputs`) the
/// store counts the input slices that are not Ready yet, and every transition of a dataset slice
/// into or out of Ready (an external check finding data, a producing window ending Ready, a
/// rerun) adjusts the counts of the windows that consume it, in the same transaction. So a pass
/// never re-reads the backlog: runnable windows are those with nothing missing, read a page at a
/// time in priority order (`candidates`).
///
/// Implementations: `SQLiteSchedulingStore` (RefitStore), `PostgresSchedulingStore`
/// (RefitPostgres) and `InMemorySchedulingStore` (RefitTestKit); all pass the same conformance suite.
/// Each also keeps the registry of worker processes (`WorkerRegistry`) that `refit status` lists.
public protocol SchedulingStore: WorkerRegistry {
    // MARK: Materialization and readiness

    /// Where materialization of the activity's windows continues (the end of the newest window
    /// created), or nil before the first window.
    func watermark(_ key: ActivityKey) async throws -> Instant?

    /// Creates `windows` (existing ones are left alone) with their inputs not yet resolved,
    /// records which datasets the activity produces (`outputs`), and moves the watermark to
    /// `until` — atomically. Returns how many windows were new.
    func materialize(_ key: ActivityKey, windows: [NewWindow], until: Instant, outputs: [String],
                     definitionSHA256: String, budget: RetryBudget, now: Instant) async throws -> Int

    /// Waiting windows whose inputs are not recorded yet (new, or reset after a reload), oldest
    /// id first, at most `limit`.
    func unresolvedWindows(limit: Int) async throws -> [WindowRecord]

    /// Records each window's input slices, creates the external slices that do not exist yet
    /// (with their first check), and counts the inputs not Ready yet. An entry whose `inputs`
    /// is nil could not be resolved: the window is never runnable until `resetInputs` (a reload).
    func recordInputs(_ inputs: [WindowInputs], now: Instant) async throws

    /// Forgets the recorded inputs of the Waiting windows of `pipeline` (definitions changed), so
    /// they are resolved again. Returns how many windows were reset.
    func resetInputs(pipeline: String, now: Instant) async throws -> Int

    /// Up to `query.limit` windows that can be claimed now — Waiting, due, nothing missing, not
    /// leased, not paused, inside the activity's active period — operator priority first, then in
    /// the activity's `executionPriorityOrder`.
    func candidates(_ query: CandidateQuery, now: Instant) async throws -> [WindowRecord]

    /// Labels up to `limit` runnable windows of the activity that wait for a free slot
    /// `ConcurrencyLimit` (ADF's substate). Returns how many were labelled.
    func labelConcurrencyLimited(_ query: CandidateQuery, limit: Int, now: Instant) async throws -> Int

    /// Attempts in progress per activity, across every worker (what `policy.concurrency` caps).
    func runningCounts() async throws -> [ActivityKey: Int]

    func window(id: Int64) async throws -> WindowRecord?
    func window(_ key: ActivityKey, start: Instant) async throws -> WindowRecord?

    /// The earliest moment after `now` at which a window becomes claimable (a retry or longRetry
    /// delay ends) or another worker's lease expires (a second after its expiry; a lease that
    /// expired and was not recovered yet answers a second after `now`, never a past instant).
    func nextWakeTime(after now: Instant, workerID: String) async throws -> Instant?

    /// A value that changes whenever another process (another worker, an operator's command)
    /// commits a change, so a sleeping worker notices within its poll interval.
    func changeToken() async throws -> Int64

    // MARK: Attempts and leases

    /// Claims the window for `request.workerID` and starts an attempt, atomically: the activity's
    /// running count is checked against `request.concurrency`, the machine decides `claimed`,
    /// and the window moves to InProgress only if its row is unchanged. nil when someone else won,
    /// the window is no longer claimable, or a cap is full.
    func claim(_ request: ClaimRequest, now: Instant) async throws -> ClaimedAttempt?

    /// Extends the lease of a running attempt; false when the lease is no longer ours.
    func renewLease(windowID: Int64, workerID: String, until: Instant, now: Instant) async throws -> Bool

    /// Records the external job an attempt works on as soon as it is known (a crash after this
    /// still lets history name the job).
    func recordExternalJob(runID: String, jobID: String) async throws

    /// Records how an attempt ended (run row, next window state, outputs, deployment, audit
    /// event) atomically. A result arriving after the lease was lost is only audited.
    func finish(runID: String, workerID: String, outcome: AttemptOutcome, budget: RetryBudget,
                now: Instant) async throws -> FinishedAttempt?

    /// An operator's cancel request for a running attempt, if any (polled about once a second by
    /// the worker running it).
    func cancelRequest(runID: String) async throws -> CancelRequest?

    /// Records an operator's request to cancel a running attempt (audited). The worker running it
    /// acts on it; if that worker is gone, lease recovery ends the attempt Canceled.
    func requestCancel(runID: String, actor: String, reason: String?, now: Instant) async throws -> CancelRequestResult

    /// Gives a running window back without charging the attempt (graceful shutdown).
    func release(runID: String, workerID: String, budget: RetryBudget, now: Instant) async throws

    /// The workers holding leases now (what a worker checks for dead processes on its host).
    func leaseOwners() async throws -> Set<String>

    /// Recovers windows whose lease expired before `now`, or whose owner is in `deadOwners`
    /// (known gone): the run is closed as a crash and the machine decides retry or Failed. The
    /// lost attempt stays counted (retry budget) — except the first time a lost attempt had
    /// recorded an external job: the next attempt resumes that job, so the pair is one attempt.
    /// A run with an operator's cancel request ends Canceled instead.
    func recoverLeases(now: Instant, deadOwners: Set<String>, budget: @escaping @Sendable (ActivityKey) -> RetryBudget) async throws -> [WindowRecord]

    // MARK: Operator controls

    /// Pipelines paused by an operator (the definitions' `isPaused` is the worker's to add).
    func pausedPipelines() async throws -> Set<String>

    /// Labels the pipeline's Waiting windows ActivityResume (paused) or back (resumed). Returns
    /// the rows changed.
    func applyPause(pipeline: String, paused: Bool, now: Instant) async throws -> Int

    /// Rerun of one window: Waiting with a fresh retry budget, trigger `rerun`, operator priority;
    /// its failed external input slices are checked again. false when it does not exist or runs.
    func rerun(_ key: ActivityKey, start: Instant, budget: RetryBudget, reason: String, now: Instant) async throws -> Bool

    // MARK: External slices

    /// Slices of `datasets` whose next check is due at `now`, oldest check first.
    func dueChecks(now: Instant, datasets: [String], limit: Int) async throws -> [SliceRecord]

    /// Waiting slices of `datasets` checked at least once whose next check is after `now`.
    func waitingBetweenChecks(datasets: [String], now: Instant, limit: Int) async throws -> [SliceRecord]

    /// Records checks (from `ExternalSliceCheck`) atomically; a slice found Ready makes its
    /// consumers' counts drop in the same step.
    func recordChecks(_ checks: [SliceCheckUpdate], now: Instant) async throws

    /// The earliest next check of a Waiting slice of `datasets`.
    func nextCheckTime(datasets: [String]) async throws -> Instant?

    /// Ready slices of `datasets` that became Ready at or after `since` (their `updatedAt`) and
    /// are not marked changed, per dataset in name order, then in the order they became Ready,
    /// after `cursor` (a page of the changed-data sweep).
    func readySlices(datasets: [String], since: Instant, after cursor: SliceCursor?, limit: Int) async throws -> [SliceRecord]

    /// Marks Ready slices whose data changed (or disappeared) since they became Ready. A change
    /// is recorded only while the slice is still Ready with the fingerprint it was compared
    /// with. Returns how many were marked.
    @discardableResult
    func recordDataChanges(_ changes: [SliceDataChange], now: Instant) async throws -> Int

    // MARK: Deployments

    /// Asks for `endpoint`'s deployment lock for `runID`, whose model was trained on the window
    /// starting `modelWindowStart` (monotonic deployments): busy, superseded, or acquired until
    /// the run ends.
    func claimEndpoint(_ endpoint: String, runID: String, modelWindowStart: Instant, now: Instant) async throws -> EndpointClaim
}

extension SchedulingStore {
    /// Recovers the windows whose lease expired before `now` (no holder judged dead).
    public func recoverExpiredLeases(now: Instant, budget: @escaping @Sendable (ActivityKey) -> RetryBudget) async throws -> [WindowRecord] {
        try await recoverLeases(now: now, deadOwners: [], budget: budget)
    }
}
