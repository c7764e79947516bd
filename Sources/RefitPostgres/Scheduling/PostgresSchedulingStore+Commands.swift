import Foundation
import RefitCore
import RefitStore

/// What `refit run` and `refit tick` record and report besides the protocol: the definitions
/// runs name, and the counts of a tick's summary. Synchronous, as the commands call them.
extension PostgresSchedulingStore {
    /// Records a loaded definition (kind, name, sha256) once.
    public func recordDefinition(kind: String, name: String, sha256: String, json: String, now: Instant) throws {
        try database.writeNow { c in
            try c.execute("""
                INSERT INTO definitions (kind, name, sha256, json, loaded_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (kind, name, sha256) DO NOTHING
                """, [.text(kind), .text(name), .text(sha256), .text(json), .timestamp(now)])
        }
    }

    /// The status of a run (`Succeeded`, `Failed`, …), or nil when there is no such run.
    public func runStatus(id: String) throws -> String? {
        try database.readNow { c in
            try c.query("SELECT status FROM runs WHERE run_id = $1", [.text(id)]).first?.string("status")
        }
    }

    /// Run ids that start with `prefix`, the exact one first, at most `limit` (`refit cancel`).
    public func runIDs(prefix: String, limit: Int) throws -> [String] {
        try database.readNow { c in
            try c.query("""
                SELECT run_id FROM runs WHERE starts_with(run_id, $1) ORDER BY (run_id = $1) DESC, seq DESC LIMIT $2
                """, [.text(prefix), .integer(Int64(limit))]).compactMap { $0.string("run_id") }
        }
    }

    /// The run ids of the pipeline's attempts running now (`refit pause --terminate`).
    public func runningRunIDs(pipeline: String) throws -> [String] {
        try database.readNow { c in
            try c.query("""
                SELECT r.run_id FROM runs r JOIN windows w ON w.id = r.window_id
                WHERE w.pipeline = $1 AND r.status = 'InProgress' ORDER BY r.seq
                """, [.text(pipeline)]).compactMap { $0.string("run_id") }
        }
    }

    /// The windows of `pipeline` overlapping [from, to), by start then activity (`refit backfill`).
    public func windows(pipeline: String, from: Instant, to: Instant) throws -> [WindowRecord] {
        try database.readNow { c in
            try c.query("""
                SELECT \(WindowRecord.columns) FROM windows
                WHERE pipeline = $1 AND window_end > $2 AND window_start < $3 ORDER BY window_start, activity
                """, [.text(pipeline), .timestamp(from), .timestamp(to)]).compactMap(WindowRecord.init(row:))
        }
    }

    /// Pipelines paused by an operator, read at once (commands).
    public func pausedPipelinesNow() throws -> Set<String> {
        try database.readNow { c in
            Set(try c.query("SELECT pipeline FROM pipeline_controls WHERE paused = 1").compactMap { $0.string("pipeline") })
        }
    }

    /// How many windows of `pipelines` are in `status`.
    public func windowCount(status: WindowStatus, pipelines: [String]) throws -> Int {
        guard !pipelines.isEmpty else { return 0 }
        return try database.readNow { c in
            try c.query("SELECT count(*) AS n FROM windows WHERE state = $1 AND pipeline = ANY(string_to_array($2, chr(31)))",
                        [.text(status.rawValue), Self.list(pipelines)]).first?.int("n") ?? 0
        }
    }
}

extension PostgresSchedulingStore {
    /// When the last input slice of a window became Ready (nil while any is not Ready): the
    /// start of the data-to-submit latency the metrics report.
    public func dataReadyAt(pipeline: String, activity: String, windowStart: Instant) throws -> Instant? {
        try database.readNow { c in
            guard let row = try c.query("""
                SELECT max(s.updated_at) AS landed, count(*) FILTER (WHERE s.state <> 'Ready') AS pending
                FROM windows w JOIN window_inputs wi ON wi.window_id = w.id
                JOIN slices s ON s.dataset = wi.dataset AND s.slice_start = wi.slice_start
                WHERE w.pipeline = $1 AND w.activity = $2 AND w.window_start = $3
                """, [.text(pipeline), .text(activity), .timestamp(windowStart)]).first,
                  (row.int("pending") ?? 1) == 0 else { return nil }
            return row.instant("landed")
        }
    }
}
