import RefitCore

/// What `refit lineage` reads, on any store: the SQLite `LineageRepository` or PostgreSQL's
/// reader return the same entries, newest deployment first. Read-only.
public protocol LineageReading: Sendable {
    /// Deployments made by the activity's runs.
    func deployments(pipeline: String, activity: String) throws -> [LineageRepository.Entry]
    /// Deployments a run led to: its own (an update run), or those of the models it trained.
    func deployments(fromRun runID: String) throws -> [LineageRepository.Entry]
    /// Deployments of models trained on the data slice.
    func deployments(fromDataset dataset: String, slice start: Instant) throws -> [LineageRepository.Entry]
    /// Whether a run with this id exists.
    func runExists(_ runID: String) throws -> Bool
    /// Whether any run read this slice.
    func sliceWasRead(dataset: String, start: Instant) throws -> Bool
}

extension LineageRepository: LineageReading {}
