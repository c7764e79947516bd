import RefitCore

/// What `refit status` reads, on any store: the SQLite `StatusRepository` or PostgreSQL's
/// reader return the same records, so the command formats both alike. Read-only.
public protocol StatusReading: Sendable {
    /// The operator's pause of each pipeline that has a control row.
    func controls() throws -> [String: PipelineControl]
    /// The pipeline's windows per state.
    func windowCounts(pipeline: String) throws -> [WindowStatus: Int]
    /// The pipeline's attempts in progress, oldest first.
    func running(pipeline: String) throws -> [StatusRepository.RunningAttempt]
    /// The pipeline's most recent failed, timed-out or canceled attempt.
    func lastFailure(pipeline: String) throws -> RunRecord?
    /// Workers holding an unexpired lease (of `pipeline`, when given), by name.
    func liveWorkers(pipeline: String?, now: Instant) throws -> [String]
    /// What the endpoint the activity last deployed to serves now, or nil.
    func serving(pipeline: String, activity: String) throws -> StatusRepository.Serving?
    /// Every registered worker process, with the instant their heartbeats are judged at: `now`
    /// on SQLite, the server's clock on PostgreSQL (which stamps the heartbeats).
    func registeredWorkers(now: Instant) throws -> (workers: [WorkerRecord], at: Instant)
}

extension StatusReading {
    /// Workers holding an unexpired lease on any pipeline.
    public func liveWorkers(now: Instant) throws -> [String] { try liveWorkers(pipeline: nil, now: now) }
}

extension StatusRepository: StatusReading {
    public func controls() throws -> [String: PipelineControl] {
        try PipelineControlRepository(database: database).controls()
    }

    public func registeredWorkers(now: Instant) throws -> (workers: [WorkerRecord], at: Instant) {
        (try database.withConnection { try SQLiteSchedulingStore.workers($0) }, now)
    }
}
