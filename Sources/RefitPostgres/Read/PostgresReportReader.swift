import RefitCore
import RefitStore

/// What `refit report` reads, from PostgreSQL: the same `HistorySnapshot` as the SQLite
/// `ReportRepository`, in the same order (names compared byte by byte as SQLite does, claim
/// order `runs.seq` for SQLite's rowid). The snapshot is read in one read-only `REPEATABLE READ`
/// transaction, so its parts agree with each other while workers write. Read-only.
public struct PostgresReportReader: ReportReading {
    let database: PostgresDatabase

    public init(_ store: PostgresSchedulingStore) { database = store.database }

    public func pipelines() throws -> [String] {
        try database.readNow { c in
            try c.query("SELECT DISTINCT pipeline COLLATE \"C\" AS pipeline FROM windows ORDER BY 1").compactMap { $0.string("pipeline") }
        }
    }

    public func snapshot(pipeline: String?, datasets: [String]?, from: Instant?, to: Instant?) throws -> HistorySnapshot {
        // $1 pipeline, $2 from, $3 to: NULL for no bound.
        let range = [PostgresValue(pipeline), PostgresValue(from), PostgresValue(to)]
        return try database.snapshotNow { c in
            let windows = try c.query("""
                SELECT id, pipeline, activity, window_start, window_end, state, substate, attempts, updated_at FROM windows
                WHERE ($1::text IS NULL OR pipeline = $1::text) AND ($2::timestamptz IS NULL OR window_end > $2::timestamptz)
                  AND ($3::timestamptz IS NULL OR window_start < $3::timestamptz)
                ORDER BY pipeline COLLATE "C", activity COLLATE "C", window_start
                """, range).compactMap(Self.window)
            let slices = try c.query("""
                SELECT id, dataset, slice_start, slice_end, state, substate, check_count, message, updated_at, fingerprint FROM slices
                WHERE ($1::timestamptz IS NULL OR slice_end > $1::timestamptz) AND ($2::timestamptz IS NULL OR slice_start < $2::timestamptz)
                ORDER BY dataset COLLATE "C", slice_start
                """, [PostgresValue(from), PostgresValue(to)]).compactMap(Self.slice)
                .filter { datasets?.contains($0.dataset) ?? true }
            let runs = try c.query("""
                SELECT r.run_id, r.window_id, w.pipeline, w.activity, w.window_start, r.attempt, r."trigger" AS run_trigger, r.status,
                       r.substatus, r.started_at, r.ended_at, r.error_class, r.error_message, r.external_job_id
                FROM runs r JOIN windows w ON w.id = r.window_id
                WHERE ($1::text IS NULL OR w.pipeline = $1::text) AND ($2::timestamptz IS NULL OR w.window_end > $2::timestamptz)
                  AND ($3::timestamptz IS NULL OR w.window_start < $3::timestamptz)
                ORDER BY r.started_at, r.seq
                """, range).compactMap(Self.run)
            let deployments = try c.query("""
                SELECT d.id, d.endpoint, d.model_location, d.model_window_start, w.pipeline, w.activity, d.run_id, d.deployed_at,
                       d.replaced_deployment_id, d.reason, d.forced
                FROM deployments d JOIN runs r ON r.run_id = d.run_id JOIN windows w ON w.id = r.window_id
                WHERE ($1::text IS NULL OR w.pipeline = $1::text)
                  AND ($2::timestamptz IS NULL OR coalesce(d.model_window_end, d.model_window_start) > $2::timestamptz)
                  AND ($3::timestamptz IS NULL OR d.model_window_start < $3::timestamptz)
                ORDER BY d.endpoint COLLATE "C", d.id
                """, range).compactMap(Self.deployment).map { deployment in
                var deployment = deployment
                deployment.dataReadyAt = try Self.dataReadyAt(c, runID: deployment.runID)
                return deployment
            }
            let evaluations = try c.query("""
                SELECT r.run_id, w.pipeline, w.activity, w.window_start, r.ended_at, o.evaluation
                FROM outputs o JOIN runs r ON r.run_id = o.run_id JOIN windows w ON w.id = r.window_id
                WHERE o.evaluation IS NOT NULL AND r.status = 'Succeeded' AND ($1::text IS NULL OR w.pipeline = $1::text)
                  AND ($2::timestamptz IS NULL OR w.window_end > $2::timestamptz) AND ($3::timestamptz IS NULL OR w.window_start < $3::timestamptz)
                ORDER BY w.pipeline COLLATE "C", w.activity COLLATE "C", w.window_start, r.started_at, r.seq, o.id
                """, range).compactMap(Self.evaluation)
            // The newest successful run's evaluation per window (its outputs carry the same one).
            return HistorySnapshot(windows: windows, slices: slices, runs: runs, deployments: deployments,
                                   evaluations: HistorySnapshot.Evaluation.newestPerWindow(evaluations))
        }
    }

    /// When the newest external input slice behind a deploying run was found Ready: the run's
    /// recorded inputs (`run_inputs`), followed through the runs that produced internal ones
    /// (at most 32 runs deep, as on SQLite).
    static func dataReadyAt(_ c: PostgresConnection, runID: String) throws -> Instant? {
        try c.query("""
            WITH RECURSIVE chain(run_id, depth) AS (
                SELECT $1::text, 0
                UNION
                SELECT i.producer_run_id, chain.depth + 1 FROM run_inputs i JOIN chain ON i.run_id = chain.run_id
                WHERE i.producer_run_id IS NOT NULL AND chain.depth < 32)
            SELECT max(s.updated_at) AS ready_at
            FROM chain JOIN run_inputs i ON i.run_id = chain.run_id
                 JOIN slices s ON s.dataset = i.dataset AND s.slice_start = i.slice_start
            WHERE i.producer_run_id IS NULL AND s.state = 'Ready'
            """, [.text(runID)]).first?.instant("ready_at")
    }

    private static func window(_ row: PostgresRow) -> HistorySnapshot.Window? {
        guard let id = row.int64("id"), let pipeline = row.string("pipeline"), let activity = row.string("activity"),
              let start = row.instant("window_start"), let end = row.instant("window_end"), let state = row.string("state") else { return nil }
        return HistorySnapshot.Window(id: id, pipeline: pipeline, activity: activity, window: Slice(start: start, end: end), state: state,
                                      substate: row.string("substate"), attempts: row.int("attempts") ?? 0, updatedAt: row.instant("updated_at"))
    }

    private static func slice(_ row: PostgresRow) -> HistorySnapshot.DataSlice? {
        guard let id = row.int64("id"), let dataset = row.string("dataset"), let start = row.instant("slice_start"),
              let end = row.instant("slice_end"), let state = row.string("state") else { return nil }
        let landed = row.string("fingerprint").flatMap(PostgresText.fingerprint)?.files.compactMap(\.modified).max()
        return HistorySnapshot.DataSlice(id: id, dataset: dataset, slice: Slice(start: start, end: end), state: state,
                                         substate: row.string("substate"), checkCount: row.int("check_count") ?? 0,
                                         message: row.string("message"), updatedAt: row.instant("updated_at"),
                                         landedAt: landed.map { Instant(secondsSinceEpoch: $0) })
    }

    private static func run(_ row: PostgresRow) -> HistorySnapshot.Run? {
        guard let runID = row.string("run_id"), let windowID = row.int64("window_id"), let pipeline = row.string("pipeline"),
              let activity = row.string("activity"), let start = row.instant("window_start"),
              let startedAt = row.instant("started_at") else { return nil }
        return HistorySnapshot.Run(runID: runID, windowID: windowID, pipeline: pipeline, activity: activity, windowStart: start,
                                   attempt: row.int("attempt") ?? 0, trigger: row.string("run_trigger") ?? "",
                                   status: row.string("status") ?? "", substatus: row.string("substatus"), startedAt: startedAt,
                                   endedAt: row.instant("ended_at"), errorClass: row.string("error_class"),
                                   errorMessage: row.string("error_message"), externalJobID: row.string("external_job_id"))
    }

    private static func deployment(_ row: PostgresRow) -> HistorySnapshot.Deployment? {
        guard let id = row.int64("id"), let endpoint = row.string("endpoint"), let location = row.string("model_location"),
              let modelStart = row.instant("model_window_start"), let pipeline = row.string("pipeline"),
              let activity = row.string("activity"), let runID = row.string("run_id"),
              let deployedAt = row.instant("deployed_at") else { return nil }
        return HistorySnapshot.Deployment(id: id, endpoint: endpoint, modelLocation: location, modelWindowStart: modelStart,
                                          pipeline: pipeline, activity: activity, runID: runID, deployedAt: deployedAt,
                                          replacedDeploymentID: row.int64("replaced_deployment_id"), reason: row.string("reason") ?? "",
                                          forced: row.int("forced") == 1, dataReadyAt: nil)
    }

    private static func evaluation(_ row: PostgresRow) -> HistorySnapshot.Evaluation? {
        guard let runID = row.string("run_id"), let pipeline = row.string("pipeline"), let activity = row.string("activity"),
              let start = row.instant("window_start"), let endedAt = row.instant("ended_at"), let text = row.string("evaluation"),
              let metrics = HistorySnapshot.Evaluation.metrics(evaluationJSON: text) else { return nil }
        return HistorySnapshot.Evaluation(pipeline: pipeline, activity: activity, windowStart: start, runID: runID, evaluatedAt: endedAt,
                                          metrics: metrics)
    }
}
