import Foundation
import RefitCore
import RefitStore

/// Rollback on PostgreSQL: the same steps as on SQLite (see `RollbackStore`), the endpoint's
/// check and lock under the endpoint's advisory lock like a scheduled update's.
extension PostgresSchedulingStore: RollbackStore {
    public func beginRollback(_ key: ActivityKey, start: Instant, modelDataset: String?, workerID: String, runID: String,
                              definitionSHA256: String, actor: String, reason: String, now: Instant) async throws -> RollbackStart {
        try await database.write { c in
            guard let window = try Self.window(c, key, start: start, lock: true) else { return .noWindow }
            guard window.status != .inProgress else { return .busy }
            if let modelDataset {
                let trained = try c.query(Self.producedReadySQL, [.text(modelDataset), .timestamp(start)])
                guard !trained.isEmpty else { return .neverTrained(dataset: modelDataset) }
            }
            let attempt = (try c.query("SELECT max(attempt) AS n FROM runs WHERE window_id = $1", [.integer(window.id)])
                .first?.int("n") ?? 0) + 1
            try c.execute("""
                INSERT INTO runs (run_id, window_id, attempt, "trigger", status, worker_id, started_at, definition_sha256)
                VALUES ($1, $2, $3, 'rerun', 'InProgress', $4, $5, $6)
                """, [.text(runID), .integer(window.id), .integer(Int64(attempt)), .text(workerID), .timestamp(now),
                      .text(definitionSHA256)])
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "rollbackStarted", pipeline: key.pipeline, activity: key.activity, windowStart: start.date,
                runID: runID, detail: PostgresText.json(["actor": actor, "reason": reason])))
            return .started(runID: runID)
        }
    }

    public func claimEndpointForRollback(_ endpoint: String, runID: String, now: Instant) async throws -> EndpointClaim {
        try await database.write { c in
            try c.advisoryLock("refit:endpoint:\(endpoint)")
            if let holder = try c.query("""
                SELECT l.run_id FROM endpoint_locks l JOIN runs r ON r.run_id = l.run_id
                WHERE l.endpoint = $1 AND l.run_id <> $2 AND r.status = 'InProgress'
                """, [.text(endpoint), .text(runID)]).first?.string("run_id") {
                return .busy(holderRunID: holder)
            }
            try c.execute("""
                INSERT INTO endpoint_locks (endpoint, run_id, acquired_at) VALUES ($1, $2, $3)
                ON CONFLICT (endpoint) DO UPDATE SET run_id = excluded.run_id, acquired_at = excluded.acquired_at
                """, [.text(endpoint), .text(runID), .timestamp(now)])
            return .acquired
        }
    }

    public func finishRollback(runID: String, deployment: ProducedDeployment?, failure: String?, actor: String, reason: String,
                               now: Instant) async throws {
        try await database.write { c in
            if let deployment {
                try c.advisoryLock("refit:endpoint:\(deployment.endpoint)")
                try Self.insertDeployment(c, deployment, runID: runID, now: now)
            }
            try c.execute("""
                UPDATE runs SET status = $1, ended_at = $2, error_class = $3, error_message = $4, result = $5
                WHERE run_id = $6 AND status = 'InProgress'
                """, [.text(deployment != nil ? RunStatus.succeeded.rawValue : RunStatus.failed.rawValue), .timestamp(now),
                      failure == nil ? .null : .text(RunErrorClass.terminal.rawValue), failure.map { .text($0) } ?? .null,
                      .text(PostgresText.json(["rollback": true, "actor": actor, "reason": reason])), .text(runID)])
            let window = try c.query("""
                SELECT w.pipeline, w.activity, w.window_start FROM runs r JOIN windows w ON w.id = r.window_id WHERE r.run_id = $1
                """, [.text(runID)]).first
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: deployment != nil ? "rolledBack" : "rollbackFailed", pipeline: window?.string("pipeline"),
                activity: window?.string("activity"), windowStart: window?.instant("window_start")?.date, runID: runID,
                detail: PostgresText.json(["actor": actor, "reason": reason, "endpoint": deployment?.endpoint,
                                   "model": deployment?.modelLocation, "error": failure])))
        }
    }
}
