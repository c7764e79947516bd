/// What `refit rollback` asks of the database, on either store: start a run of its own on the
/// update window, take the endpoint's lock regardless of the serving model, and end the run
/// with the forced deployment (kind `rollback`) or its failure — each step audited.
public protocol RollbackStore: Sendable {
    /// Starts a rollback run on the update window `key` at `start`, after checking that the
    /// window exists and, when `modelDataset` is given, that its producing window is Ready.
    func beginRollback(_ key: ActivityKey, start: Instant, modelDataset: String?, workerID: String, runID: String,
                       definitionSHA256: String, actor: String, reason: String, now: Instant) async throws -> RollbackStart

    /// Takes the endpoint's deployment lock for a rollback run (waiting while another attempt
    /// holds it is the caller's loop): unlike a scheduled update, a newer serving model does not
    /// stop it.
    func claimEndpointForRollback(_ endpoint: String, runID: String, now: Instant) async throws -> EndpointClaim

    /// Ends a rollback run: with a deployment, it is recorded (forced, kind `rollback`) and the
    /// run Succeeded; with an error message, the run Failed and nothing is deployed.
    func finishRollback(runID: String, deployment: ProducedDeployment?, failure: String?, actor: String, reason: String,
                        now: Instant) async throws
}

/// Why a rollback to a window cannot be done, or the run it starts.
public enum RollbackStart: Hashable, Sendable {
    case started(runID: String)
    /// The update window was never created (the pipeline never reached it).
    case noWindow
    /// The model dataset's slice at this window was never produced (its training never succeeded).
    case neverTrained(dataset: String)
    /// An attempt of this update window is running now.
    case busy
}
