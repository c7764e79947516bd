import RefitCore
import RefitStore

/// What `refit status` reads, from PostgreSQL: the same records as the SQLite
/// `StatusRepository`. Read-only. Leases are compared with the server's clock when the store's
/// lease clock is the database's (as workers stamp them), so a host with a skewed clock still
/// sees who is working.
public struct PostgresStatusReader: StatusReading {
    let store: PostgresSchedulingStore

    public init(_ store: PostgresSchedulingStore) { self.store = store }

    private var database: PostgresDatabase { store.database }

    public func controls() throws -> [String: PipelineControl] {
        try database.readNow { c in
            var result: [String: PipelineControl] = [:]
            for row in try c.query("""
                SELECT c.pipeline, c.paused, c.reason, c.updated_at,
                       (SELECT e.detail::jsonb ->> 'actor' FROM events e
                         WHERE e.pipeline = c.pipeline AND e.kind IN ('pipelinePaused', 'pipelineResumed') ORDER BY e.id DESC LIMIT 1) AS actor
                FROM pipeline_controls c
                """) {
                guard let pipeline = row.string("pipeline"), let since = row.instant("updated_at") else { continue }
                result[pipeline] = PipelineControl(paused: row.int("paused") == 1, reason: row.string("reason"), actor: row.string("actor"),
                                                   since: since)
            }
            return result
        }
    }

    public func windowCounts(pipeline: String) throws -> [WindowStatus: Int] {
        try database.readNow { c in
            var counts: [WindowStatus: Int] = [:]
            for row in try c.query("SELECT state, count(*) AS n FROM windows WHERE pipeline = $1 GROUP BY state", [.text(pipeline)]) {
                guard let state = row.string("state").flatMap(WindowStatus.init(rawValue:)) else { continue }
                counts[state] = row.int("n") ?? 0
            }
            return counts
        }
    }

    public func running(pipeline: String) throws -> [StatusRepository.RunningAttempt] {
        try database.readNow { c in
            try c.query("""
                SELECT r.run_id, w.activity, w.window_start, w.window_end, r.attempt, r.started_at, w.lease_owner, w.lease_expires_at
                FROM runs r JOIN windows w ON w.id = r.window_id
                WHERE w.pipeline = $1 AND r.status = 'InProgress' ORDER BY r.started_at, r.seq
                """, [.text(pipeline)]).compactMap { row -> StatusRepository.RunningAttempt? in
                guard let runID = row.string("run_id"), let activity = row.string("activity"),
                      let start = row.instant("window_start"), let end = row.instant("window_end"),
                      let startedAt = row.instant("started_at") else { return nil }
                return StatusRepository.RunningAttempt(runID: runID, activity: activity, window: Slice(start: start, end: end),
                                                       attempt: row.int("attempt") ?? 0, startedAt: startedAt,
                                                       leaseOwner: row.string("lease_owner"), leaseExpiresAt: row.instant("lease_expires_at"))
            }
        }
    }

    public func lastFailure(pipeline: String) throws -> RunRecord? {
        try database.readNow { c in
            try c.query("""
                \(RunRecord.postgresSelect) WHERE w.pipeline = $1 AND r.status IN ('Failed', 'TimedOut', 'Canceled')
                ORDER BY r.ended_at DESC, r.seq DESC LIMIT 1
                """, [.text(pipeline)]).first.flatMap(RunRecord.init(postgres:))
        }
    }

    public func liveWorkers(pipeline: String?, now: Instant) throws -> [String] {
        try database.readNow { c in
            let leaseNow = try store.leaseNow(c, now)
            return try c.query("""
                SELECT DISTINCT lease_owner COLLATE "C" AS lease_owner FROM windows
                WHERE lease_owner IS NOT NULL AND lease_expires_at >= $1 AND ($2::text IS NULL OR pipeline = $2::text) ORDER BY 1
                """, [.timestamp(leaseNow), PostgresValue(pipeline)]).compactMap { $0.string("lease_owner") }
        }
    }

    public func registeredWorkers(now: Instant) throws -> (workers: [WorkerRecord], at: Instant) {
        try database.readNow { c in
            let at = try store.leaseNow(c, now)
            return (try PostgresSchedulingStore.workers(c), at)
        }
    }

    public func serving(pipeline: String, activity: String) throws -> StatusRepository.Serving? {
        try database.readNow { c in
            try c.query("""
                SELECT d.endpoint, d.model_location, d.model_window_start, d.run_id, d.deployed_at FROM deployments d
                WHERE d.id = (SELECT max(id) FROM deployments WHERE endpoint =
                    (SELECT d2.endpoint FROM deployments d2 JOIN runs r ON r.run_id = d2.run_id JOIN windows w ON w.id = r.window_id
                     WHERE w.pipeline = $1 AND w.activity = $2 ORDER BY d2.id DESC LIMIT 1))
                """, [.text(pipeline), .text(activity)]).first.flatMap { row -> StatusRepository.Serving? in
                guard let endpoint = row.string("endpoint"), let location = row.string("model_location"),
                      let start = row.instant("model_window_start"), let runID = row.string("run_id"),
                      let at = row.instant("deployed_at") else { return nil }
                return StatusRepository.Serving(endpoint: endpoint, modelLocation: location, modelWindowStart: start, runID: runID,
                                                deployedAt: at)
            }
        }
    }
}
