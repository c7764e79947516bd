import Foundation
import RefitCore

/// Deployments and endpoint locks: one update attempt at a time per endpoint, and deployments
/// that only move forward unless an operator forces an older model.
extension SQLiteSchedulingStore {
    public func claimEndpoint(_ endpoint: String, runID: String, modelWindowStart: Instant, now: Instant) async throws -> EndpointClaim {
        try await database.write { c in
            try Self.claimEndpoint(c, endpoint, runID: runID, modelWindowStart: modelWindowStart, now: now)
        }
    }

    /// `claimEndpoint` inside a transaction of the caller's (also the claim's, for a request
    /// that names an endpoint).
    static func claimEndpoint(_ c: SQLiteConnection, _ endpoint: String, runID: String, modelWindowStart: Instant,
                              now: Instant) throws -> EndpointClaim {
        let claim = try EndpointClaim.decide(modelWindowStart: modelWindowStart, holder: {
            try c.query("""
                SELECT l.run_id FROM endpoint_locks l JOIN runs r ON r.run_id = l.run_id
                WHERE l.endpoint = ? AND l.run_id <> ? AND r.status = 'InProgress'
                """, [.text(endpoint), .text(runID)]).first?.string("run_id")
        }, unsettledPatch: {
            try c.query("""
                SELECT r.run_id FROM steps s INDEXED BY steps_patch_unsettled JOIN runs r ON r.run_id = s.run_id
                WHERE s.name = 'patch' AND s.state <> 'done' AND r.run_id <> ? AND r.status <> 'InProgress'
                  AND json_extract(s.intent, '$.endpoint') = ? AND coalesce(s.ended_at, r.ended_at) > ?
                LIMIT 1
                """, [.text(runID), .text(endpoint), StoreText.text(now - Self.inFlightPatchGrace)]).first?.string("run_id")
        }, serving: {
            try Self.servingWindowStart(c, endpoint: endpoint)
        }, inDoubt: {
            try Self.inDoubtPatchWindowStart(c, endpoint: endpoint, newerThan: modelWindowStart)
        })
        guard claim == .acquired else { return claim }
        try c.execute("""
            INSERT INTO endpoint_locks (endpoint, run_id, acquired_at) VALUES (?, ?, ?)
            ON CONFLICT (endpoint) DO UPDATE SET run_id = excluded.run_id, acquired_at = excluded.acquired_at
            """, [.text(endpoint), .text(runID), StoreText.text(now)])
        return .acquired
    }

    /// The newest window, newer than `start`, whose PATCH to `endpoint` may have taken effect
    /// without being recorded: an attempt journaled its `patch` intent and ended without a result
    /// (its worker died between the PATCH and the journal entry), after the last recorded
    /// deployment. The endpoint may serve that window's model, so an older window must not deploy
    /// over it; that window's next attempt PATCHes again and records it.
    static func inDoubtPatchWindowStart(_ c: SQLiteConnection, endpoint: String, newerThan start: Instant) throws -> Instant? {
        try c.query("""
            SELECT w.window_start FROM steps s INDEXED BY steps_patch_unsettled
              JOIN runs r ON r.run_id = s.run_id
              JOIN windows w ON w.id = r.window_id
            WHERE s.name = 'patch' AND s.state <> 'done' AND s.state = 'intent' AND r.status <> 'InProgress'
              AND json_extract(s.intent, '$.endpoint') = ? AND w.window_start > ?
              AND r.started_at >= coalesce((SELECT max(deployed_at) FROM deployments WHERE endpoint = ?), '')
            ORDER BY w.window_start DESC LIMIT 1
            """, [.text(endpoint), StoreText.text(start), .text(endpoint)]).first.flatMap { StoreText.instant($0, "window_start") }
    }

    /// How long an endpoint stays busy after a PATCH whose outcome is unknown ended (a request
    /// sent by a worker that died, or one that failed in transit, can still reach the service).
    static let inFlightPatchGrace = TimeSpan(seconds: 5)

    /// The start of the training window of the model serving `endpoint` now, per the
    /// deployments recorded; nil when nothing was deployed there yet.
    static func servingWindowStart(_ c: SQLiteConnection, endpoint: String) throws -> Instant? {
        try c.query("SELECT model_window_start FROM deployments WHERE endpoint = ? ORDER BY id DESC LIMIT 1", [.text(endpoint)])
            .first.flatMap { StoreText.instant($0, "model_window_start") }
    }

    /// Why `deployment` would replace a model trained on a newer window, or nil.
    static func supersededReason(_ c: SQLiteConnection, _ deployment: ProducedDeployment) throws -> String? {
        guard !deployment.forced, let serving = try servingWindowStart(c, endpoint: deployment.endpoint),
              serving > deployment.modelWindow.start
        else { return nil }
        return "A model trained on the newer window starting \(serving.iso8601) already serves endpoint \(deployment.endpoint)."
    }

    static func insertDeployment(_ c: SQLiteConnection, _ deployment: ProducedDeployment, runID: String, now: Instant) throws {
        let replaced = try c.query("SELECT id FROM deployments WHERE endpoint = ? ORDER BY id DESC LIMIT 1",
                                   [.text(deployment.endpoint)]).first?.int64("id")
        let output = try c.query("SELECT id FROM outputs WHERE location = ? ORDER BY id DESC LIMIT 1",
                                 [.text(deployment.modelLocation)]).first?.int64("id")
        try c.execute("""
            INSERT INTO deployments (endpoint, model_location, model_window_start, model_window_end, output_id, run_id,
                                     deployed_at, replaced_deployment_id, reason, forced)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (run_id, endpoint) DO NOTHING
            """, [.text(deployment.endpoint), .text(deployment.modelLocation), StoreText.text(deployment.modelWindow.start),
                  StoreText.text(deployment.modelWindow.end), SQLiteValue(output), .text(runID), StoreText.text(now),
                  SQLiteValue(replaced), .text(deployment.reason), SQLiteValue(deployment.forced)])
    }
}
