import RefitCore
import RefitStore

/// What `refit history` and `refit show` read, from PostgreSQL: the same records as the SQLite
/// `RunRepository` (claim order is `runs.seq`, SQLite's rowid). Read-only.
public struct PostgresRunHistory: RunHistoryReading {
    let database: PostgresDatabase

    public init(_ store: PostgresSchedulingStore) { database = store.database }

    public func hasWindows(pipeline: String?, activity: String?) throws -> Bool {
        try database.readNow { c in
            try !c.query("""
                SELECT 1 FROM windows WHERE ($1::text IS NULL OR pipeline = $1::text) AND ($2::text IS NULL OR activity = $2::text) LIMIT 1
                """, [PostgresValue(pipeline), PostgresValue(activity)]).isEmpty
        }
    }

    public func history(_ query: RunQuery) throws -> [RunRecord] {
        let direction = query.order == .newest ? "DESC" : "ASC"
        let filter = query.filter
        return try database.readNow { c in
            try c.query("""
                \(RunRecord.postgresSelect)
                WHERE ($1::text IS NULL OR w.pipeline = $1::text) AND ($2::text IS NULL OR w.activity = $2::text)
                  AND ($3::timestamptz IS NULL OR r.started_at >= $3::timestamptz) AND ($4::text IS NULL OR r.status = $4::text)
                  AND ($5::timestamptz IS NULL OR w.window_start = $5::timestamptz)
                ORDER BY r.started_at \(direction), r.seq \(direction)
                LIMIT $6::bigint
                """, [PostgresValue(filter.pipeline), PostgresValue(filter.activity), PostgresValue(filter.since),
                      PostgresValue(filter.status), PostgresValue(query.windowStart), PostgresValue(query.limit)])
                .compactMap(RunRecord.init(postgres:))
        }
    }

    public func runs(idPrefix prefix: String, limit: Int) throws -> [RunRecord] {
        try database.readNow { c in
            try c.query("\(RunRecord.postgresSelect) WHERE starts_with(r.run_id, $1) ORDER BY r.run_id COLLATE \"C\" LIMIT $2",
                        [.text(prefix), .integer(Int64(limit))]).compactMap(RunRecord.init(postgres:))
        }
    }

    public func steps(runID: String) throws -> [RunStepRecord] {
        try database.readNow { c in
            try c.query("SELECT seq, name, state, intent, result, started_at, ended_at FROM steps WHERE run_id = $1 ORDER BY seq",
                        [.text(runID)]).map { row in
                RunStepRecord(seq: row.int("seq") ?? 0, name: row.string("name") ?? "", state: row.string("state") ?? "",
                              intentJSON: row.string("intent") ?? "{}", resultJSON: row.string("result"),
                              startedAt: row.instant("started_at")?.iso8601 ?? "", endedAt: row.instant("ended_at")?.iso8601)
            }
        }
    }

    public func events(runID: String) throws -> [AuditEvent] {
        try database.readNow { c in
            try c.query("SELECT \(AuditEvent.postgresColumns) FROM events WHERE run_id = $1 ORDER BY id", [.text(runID)])
                .map(AuditEvent.init(postgres:))
        }
    }

    public func submitRun(windowID: Int64, excluding runID: String, jobID: String) throws -> String? {
        try database.readNow { c in
            try c.query("""
                SELECT s.run_id FROM steps AS s JOIN runs AS r ON r.run_id = s.run_id
                WHERE r.window_id = $1 AND s.name = 'submit' AND s.run_id <> $2
                  AND jsonb_typeof(s.result::jsonb) = 'object' AND s.result::jsonb ->> 'jobId' = $3
                ORDER BY r.seq DESC LIMIT 1
                """, [.integer(windowID), .text(runID), .text(jobID)]).first?.string("run_id")
        }
    }
}

extension RunRecord {
    /// `RunRecord.select` of the SQLite store, on PostgreSQL's schema.
    static let postgresSelect = """
        SELECT r.run_id, r.window_id, w.pipeline, w.activity, w.window_start, w.window_end, r.attempt, r."trigger" AS run_trigger,
               r.status, r.substatus, r.worker_id, r.started_at, r.ended_at, r.error_class, r.error_message,
               r.external_job_id, r.result, r.definition_sha256,
               CASE WHEN r.status = 'InProgress' AND w.lease_owner = r.worker_id THEN w.lease_expires_at END AS lease_expires_at
        FROM runs AS r JOIN windows AS w ON w.id = r.window_id
        """

    init?(postgres row: PostgresRow) {
        guard let runID = row.string("run_id"), let windowID = row.int64("window_id"), let pipeline = row.string("pipeline"),
              let activity = row.string("activity"), let start = row.instant("window_start"),
              let end = row.instant("window_end"), let startedAt = row.instant("started_at") else { return nil }
        self.init(runID: runID, windowID: windowID, pipeline: pipeline, activity: activity, window: Slice(start: start, end: end),
                  attempt: row.int("attempt") ?? 0, trigger: row.string("run_trigger") ?? "", status: row.string("status") ?? "",
                  substatus: row.string("substatus"), workerID: row.string("worker_id") ?? "", startedAt: startedAt,
                  endedAt: row.instant("ended_at"), errorClass: row.string("error_class"), errorMessage: row.string("error_message"),
                  externalJobID: row.string("external_job_id"), resultJSON: row.string("result"),
                  definitionSHA256: row.string("definition_sha256") ?? "", leaseExpiresAt: row.instant("lease_expires_at"))
    }
}

extension AuditEvent {
    static let postgresColumns = "id, at, kind, pipeline, activity, window_start, run_id, detail, prev_hash, hash"

    init(postgres row: PostgresRow) {
        self.init(id: row.int64("id") ?? 0, at: row.string("at") ?? "", kind: row.string("kind") ?? "",
                  pipeline: row.string("pipeline"), activity: row.string("activity"),
                  windowStart: row.string("window_start"), runID: row.string("run_id"),
                  detail: row.string("detail") ?? "", prevHash: row.string("prev_hash") ?? "",
                  hash: row.string("hash") ?? "")
    }
}
