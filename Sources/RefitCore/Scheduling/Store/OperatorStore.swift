/// What the operator commands (`refit rerun`, `skip`, `pause`, `resume`, `backfill`) ask of the
/// database, kept apart from `SchedulingStore` so the worker's protocol (and its other
/// implementations) stay unchanged. The caller decides which windows an action names (the
/// downstream walk, the backfill range); the store applies it atomically: either every named
/// window changes or none does, and each change is audited with who asked and why in the same
/// transaction.
public protocol OperatorStore: Sendable {
    /// Reruns `targets` in order (upstream windows first, so each later window sees the inputs
    /// the earlier ones just took away): Waiting with a fresh retry budget, trigger `rerun`,
    /// operator priority; failed external input slices are checked again. Throws
    /// `OperatorRefusal` (and changes nothing) when a target does not exist or is running.
    func rerun(_ targets: [WindowTarget], budget: @escaping @Sendable (ActivityKey) -> RetryBudget, request: OperatorRequest,
               now: Instant) async throws -> [WindowRecord]

    /// Marks `targets` Skipped (Set-SliceStatus): their consumers wait again. Throws
    /// `OperatorRefusal` (and changes nothing) when a target does not exist or is running.
    func skip(_ targets: [WindowTarget], request: OperatorRequest, now: Instant) async throws -> [WindowRecord]

    /// Pauses or resumes a pipeline for every worker sharing the database.
    func setPaused(pipeline: String, paused: Bool, request: OperatorRequest, now: Instant) async throws

    /// Records a backfill and queues its windows: each is created when missing, selected by the
    /// backfill's mode against its state *now* (inside the transaction), and given its priority.
    /// Returns the backfill with its progress.
    func startBackfill(_ backfill: BackfillRequest, windows: [BackfillWindow], now: Instant) async throws -> BackfillRecord

    /// One backfill with its progress, or nil.
    func backfill(id: Int64) async throws -> BackfillRecord?

    /// Every backfill, newest first, with its progress.
    func backfills() async throws -> [BackfillRecord]
}
