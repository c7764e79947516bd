import RefitCore

/// What the database families of the metrics exposition (`refit metrics`, `/metrics` of
/// `refit run --metrics-address`) read, on any store: the SQLite `MetricsRepository` or
/// PostgreSQL's reader return the same totals. Read-only.
public protocol MetricsReading: Sendable {
    /// Windows per (pipeline, activity, state).
    func windowCounts() throws -> [MetricsRepository.Count]
    /// Ended runs per (pipeline, activity, status).
    func runOutcomes() throws -> [MetricsRepository.Count]
    /// Deployments per (pipeline, activity, kind): `deploy`, `forced`, `rollback`, and
    /// `superseded`/`skipped` from the runs that ended Skipped (of any activity: the caller
    /// keeps the update activities' rows).
    func deploymentCounts() throws -> [MetricsRepository.Count]
    /// Every endpoint's latest deployment, by endpoint.
    func servedModels() throws -> [MetricsRepository.ServedModel]
}

extension MetricsRepository: MetricsReading {}
