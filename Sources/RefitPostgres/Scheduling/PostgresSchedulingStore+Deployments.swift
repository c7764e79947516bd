import Foundation
import RefitCore
import RefitStore

/// Deployments and endpoint locks: one update attempt at a time per endpoint, and deployments
/// that only move forward unless an operator forces an older model.
extension PostgresSchedulingStore {
    public func claimEndpoint(_ endpoint: String, runID: String, modelWindowStart: Instant, now: Instant) async throws -> EndpointClaim {
        try await database.write { c in
            try Self.claimEndpoint(c, endpoint, runID: runID, modelWindowStart: modelWindowStart, now: now)
        }
    }

    /// `claimEndpoint` inside a transaction of the caller's (also the claim's, for a request
    /// that names an endpoint).
    static func claimEndpoint(_ c: PostgresConnection, _ endpoint: String, runID: String, modelWindowStart: Instant,
                              now: Instant) throws -> EndpointClaim {
        // The check and the write below run under the endpoint's lock on every host.
        try c.advisoryLock("refit:endpoint:\(endpoint)")
        let claim = try EndpointClaim.decide(modelWindowStart: modelWindowStart, holder: {
            try c.query("""
                SELECT l.run_id FROM endpoint_locks l JOIN runs r ON r.run_id = l.run_id
                WHERE l.endpoint = $1 AND l.run_id <> $2 AND r.status = 'InProgress'
                """, [.text(endpoint), .text(runID)]).first?.string("run_id")
        }, unsettledPatch: {
            try c.query("""
                SELECT r.run_id FROM steps s JOIN runs r ON r.run_id = s.run_id
                WHERE s.name = 'patch' AND s.state <> 'done' AND r.run_id <> $1 AND r.status <> 'InProgress'
                  AND (s.intent::jsonb ->> 'endpoint') = $2 AND coalesce(s.ended_at, r.ended_at) > $3
                LIMIT 1
                """, [.text(runID), .text(endpoint), .timestamp(now - Self.inFlightPatchGrace)]).first?.string("run_id")
        }, serving: {
            try Self.servingWindowStart(c, endpoint: endpoint)
        }, inDoubt: {
            try Self.inDoubtPatchWindowStart(c, endpoint: endpoint, newerThan: modelWindowStart)
        })
        guard claim == .acquired else { return claim }
        try c.execute("""
            INSERT INTO endpoint_locks (endpoint, run_id, acquired_at) VALUES ($1, $2, $3)
            ON CONFLICT (endpoint) DO UPDATE SET run_id = excluded.run_id, acquired_at = excluded.acquired_at
            """, [.text(endpoint), .text(runID), .timestamp(now)])
        return .acquired
    }

    /// The newest window, newer than `start`, whose PATCH to `endpoint` may have taken effect
    /// without being recorded (D15).
    static func inDoubtPatchWindowStart(_ c: PostgresConnection, endpoint: String, newerThan start: Instant) throws -> Instant? {
        try c.query("""
            SELECT w.window_start FROM steps s
              JOIN runs r ON r.run_id = s.run_id
              JOIN windows w ON w.id = r.window_id
            WHERE s.name = 'patch' AND s.state <> 'done' AND s.state = 'intent' AND r.status <> 'InProgress'
              AND (s.intent::jsonb ->> 'endpoint') = $1 AND w.window_start > $2
              AND r.started_at >= coalesce((SELECT max(deployed_at) FROM deployments WHERE endpoint = $1), '-infinity'::timestamptz)
            ORDER BY w.window_start DESC LIMIT 1
            """, [.text(endpoint), .timestamp(start)]).first?.instant("window_start")
    }

    /// How long an endpoint stays busy after a PATCH whose outcome is unknown ended.
    static let inFlightPatchGrace = TimeSpan(seconds: 5)

    /// The start of the training window of the model serving `endpoint` now, or nil.
    static func servingWindowStart(_ c: PostgresConnection, endpoint: String) throws -> Instant? {
        try c.query("SELECT model_window_start FROM deployments WHERE endpoint = $1 ORDER BY id DESC LIMIT 1", [.text(endpoint)])
            .first?.instant("model_window_start")
    }

    /// Why `deployment` would replace a model trained on a newer window, or nil.
    static func supersededReason(_ c: PostgresConnection, _ deployment: ProducedDeployment) throws -> String? {
        guard !deployment.forced, let serving = try servingWindowStart(c, endpoint: deployment.endpoint),
              serving > deployment.modelWindow.start
        else { return nil }
        return "A model trained on the newer window starting \(serving.iso8601) already serves endpoint \(deployment.endpoint)."
    }

    static func insertDeployment(_ c: PostgresConnection, _ deployment: ProducedDeployment, runID: String, now: Instant) throws {
        let replaced = try c.query("SELECT id FROM deployments WHERE endpoint = $1 ORDER BY id DESC LIMIT 1",
                                   [.text(deployment.endpoint)]).first?.int64("id")
        let output = try c.query("SELECT id FROM outputs WHERE location = $1 ORDER BY id DESC LIMIT 1",
                                 [.text(deployment.modelLocation)]).first?.int64("id")
        try c.execute("""
            INSERT INTO deployments (endpoint, model_location, model_window_start, model_window_end, output_id, run_id,
                                     deployed_at, replaced_deployment_id, reason, forced)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (run_id, endpoint) DO NOTHING
            """, [.text(deployment.endpoint), .text(deployment.modelLocation), .timestamp(deployment.modelWindow.start),
                  .timestamp(deployment.modelWindow.end), PostgresValue(output), .text(runID), .timestamp(now),
                  PostgresValue(replaced), .text(deployment.reason), PostgresValue(deployment.forced)])
    }
}
