import Foundation
import RefitCore

/// Rollback: an operator puts back the model an earlier window trained. It is an audited,
/// forced deployment (kind `rollback`) made by a run of its own on that update window; the
/// window's state does not change. Monotonic deployments then compare against the rolled-back
/// window: a newer window deploys normally, an older one is Superseded.
extension SQLiteSchedulingStore: RollbackStore {
    /// Starts a rollback run on the update window `key` at `start`, after checking that the
    /// window exists and, when `modelDataset` is given, that its producing window is Ready.
    public func beginRollback(_ key: ActivityKey, start: Instant, modelDataset: String?, workerID: String, runID: String,
                              definitionSHA256: String, actor: String, reason: String, now: Instant) async throws -> RollbackStart {
        try await database.write { c in
            guard let window = try Self.window(c, key, start: start) else { return .noWindow }
            guard window.status != .inProgress else { return .busy }
            if let modelDataset {
                let trained = try c.query(Self.producedReadySQL, [.text(modelDataset), StoreText.text(start)])
                guard !trained.isEmpty else { return .neverTrained(dataset: modelDataset) }
            }
            let attempt = (try c.query("SELECT max(attempt) AS n FROM runs WHERE window_id = ?", [.integer(window.id)]).first?.int("n") ?? 0) + 1
            try c.execute("""
                INSERT INTO runs (run_id, window_id, attempt, "trigger", status, worker_id, started_at, definition_sha256)
                VALUES (?, ?, ?, 'rerun', 'InProgress', ?, ?, ?)
                """, [.text(runID), .integer(window.id), .integer(Int64(attempt)), .text(workerID), StoreText.text(now),
                      .text(definitionSHA256)])
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "rollbackStarted", pipeline: key.pipeline, activity: key.activity, windowStart: start.date,
                runID: runID, detail: StoreText.json(["actor": actor, "reason": reason])))
            return .started(runID: runID)
        }
    }

    /// Ends a rollback run: with a deployment, it is recorded (forced, kind `rollback`) and the
    /// run Succeeded; with an error message, the run Failed and nothing is deployed.
    public func finishRollback(runID: String, deployment: ProducedDeployment?, failure: String?, actor: String, reason: String,
                               now: Instant) async throws {
        try await database.write { c in
            if let deployment {
                try Self.insertDeployment(c, deployment, runID: runID, now: now)
            }
            try c.execute("""
                UPDATE runs SET status = ?, ended_at = ?, error_class = ?, error_message = ?, result = ? WHERE run_id = ? AND status = 'InProgress'
                """, [.text(deployment != nil ? RunStatus.succeeded.rawValue : RunStatus.failed.rawValue), StoreText.text(now),
                      SQLiteValue(failure == nil ? nil : RunErrorClass.terminal.rawValue), SQLiteValue(failure),
                      .text(StoreText.json(["rollback": true, "actor": actor, "reason": reason])), .text(runID)])
            let window = try c.query("""
                SELECT w.pipeline, w.activity, w.window_start FROM runs r JOIN windows w ON w.id = r.window_id WHERE r.run_id = ?
                """, [.text(runID)]).first
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: deployment != nil ? "rolledBack" : "rollbackFailed", pipeline: window?.string("pipeline"),
                activity: window?.string("activity"), windowStart: window.flatMap { StoreText.instant($0, "window_start") }?.date,
                runID: runID,
                detail: StoreText.json(["actor": actor, "reason": reason, "endpoint": deployment?.endpoint,
                                        "model": deployment?.modelLocation, "error": failure])))
        }
    }

    /// Takes the endpoint's deployment lock for a rollback run (waiting while another attempt
    /// holds it is the caller's loop): unlike a scheduled update, a newer serving model does not
    /// stop it.
    public func claimEndpointForRollback(_ endpoint: String, runID: String, now: Instant) async throws -> EndpointClaim {
        try await database.write { c in
            if let holder = try c.query("""
                SELECT l.run_id FROM endpoint_locks l JOIN runs r ON r.run_id = l.run_id
                WHERE l.endpoint = ? AND l.run_id <> ? AND r.status = 'InProgress'
                """, [.text(endpoint), .text(runID)]).first?.string("run_id") {
                return .busy(holderRunID: holder)
            }
            try c.execute("""
                INSERT INTO endpoint_locks (endpoint, run_id, acquired_at) VALUES (?, ?, ?)
                ON CONFLICT (endpoint) DO UPDATE SET run_id = excluded.run_id, acquired_at = excluded.acquired_at
                """, [.text(endpoint), .text(runID), StoreText.text(now)])
            return .acquired
        }
    }
}
