import Foundation
import RefitCore

/// Reads what `refit report` shows — windows, external slices, attempts, deployments and
/// evaluations — as one `HistorySnapshot`, in one read transaction so the parts agree with each
/// other while a worker writes. Read-only: works on a database opened with `Store.openReadOnly`.
public struct ReportRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    /// Every pipeline with a window recorded, by name.
    public func pipelines() throws -> [String] {
        try database.query("SELECT DISTINCT pipeline FROM windows ORDER BY pipeline").compactMap { $0.string("pipeline") }
    }

    /// The history of `pipeline` (nil: every pipeline) whose windows and slices overlap
    /// `[from, to)` (nil: unbounded). `datasets` restricts the external slices (nil: every
    /// dataset in the `slices` table; the database does not record which pipeline reads one).
    public func snapshot(pipeline: String?, datasets: [String]?, from: Instant?, to: Instant?) throws -> HistorySnapshot {
        let range: [String: SQLiteValue] = ["pipeline": SQLiteValue(pipeline), "from": StoreText.text(from), "to": StoreText.text(to)]
        return try database.withConnection { c in
            try c.execute("BEGIN")
            defer { _ = try? c.execute("COMMIT") }
            let windows = try c.query("""
                SELECT id, pipeline, activity, window_start, window_end, state, substate, attempts, updated_at FROM windows
                WHERE (:pipeline IS NULL OR pipeline = :pipeline) AND (:from IS NULL OR window_end > :from) AND (:to IS NULL OR window_start < :to)
                ORDER BY pipeline, activity, window_start
                """, named: range).compactMap(Self.window)
            let slices = try c.query("""
                SELECT id, dataset, slice_start, slice_end, state, substate, check_count, message, updated_at, fingerprint FROM slices
                WHERE (:from IS NULL OR slice_end > :from) AND (:to IS NULL OR slice_start < :to)
                ORDER BY dataset, slice_start
                """, named: ["from": StoreText.text(from), "to": StoreText.text(to)]).compactMap(Self.slice)
                .filter { datasets?.contains($0.dataset) ?? true }
            let runs = try c.query("""
                SELECT r.run_id, r.window_id, w.pipeline, w.activity, w.window_start, r.attempt, r."trigger" AS run_trigger, r.status,
                       r.substatus, r.started_at, r.ended_at, r.error_class, r.error_message, r.external_job_id
                FROM runs r JOIN windows w ON w.id = r.window_id
                WHERE (:pipeline IS NULL OR w.pipeline = :pipeline) AND (:from IS NULL OR w.window_end > :from)
                  AND (:to IS NULL OR w.window_start < :to)
                ORDER BY r.started_at, r.rowid
                """, named: range).compactMap(Self.run)
            let deployments = try c.query("""
                SELECT d.id, d.endpoint, d.model_location, d.model_window_start, w.pipeline, w.activity, d.run_id, d.deployed_at,
                       d.replaced_deployment_id, d.reason, d.forced
                FROM deployments d JOIN runs r ON r.run_id = d.run_id JOIN windows w ON w.id = r.window_id
                WHERE (:pipeline IS NULL OR w.pipeline = :pipeline)
                  AND (:from IS NULL OR coalesce(d.model_window_end, d.model_window_start) > :from)
                  AND (:to IS NULL OR d.model_window_start < :to)
                ORDER BY d.endpoint, d.id
                """, named: range).compactMap(Self.deployment).map { deployment in
                var deployment = deployment
                deployment.dataReadyAt = try Self.dataReadyAt(c, runID: deployment.runID)
                return deployment
            }
            let evaluations = try c.query("""
                SELECT r.run_id, w.pipeline, w.activity, w.window_start, r.ended_at, o.evaluation
                FROM outputs o JOIN runs r ON r.run_id = o.run_id JOIN windows w ON w.id = r.window_id
                WHERE o.evaluation IS NOT NULL AND r.status = 'Succeeded' AND (:pipeline IS NULL OR w.pipeline = :pipeline)
                  AND (:from IS NULL OR w.window_end > :from) AND (:to IS NULL OR w.window_start < :to)
                ORDER BY w.pipeline, w.activity, w.window_start, r.started_at, r.rowid, o.id
                """, named: range).compactMap(Self.evaluation)
            // The newest successful run's evaluation per window (its outputs carry the same one).
            return HistorySnapshot(windows: windows, slices: slices, runs: runs, deployments: deployments,
                                   evaluations: HistorySnapshot.Evaluation.newestPerWindow(evaluations))
        }
    }

    /// When the newest external input slice behind a deploying run was found Ready: the run's
    /// recorded inputs (`run_inputs`), followed through the runs that produced internal ones.
    static func dataReadyAt(_ c: SQLiteConnection, runID: String) throws -> Instant? {
        try c.query("""
            WITH RECURSIVE chain(run_id, depth) AS (
                SELECT ?, 0
                UNION
                SELECT i.producer_run_id, chain.depth + 1 FROM run_inputs i JOIN chain ON i.run_id = chain.run_id
                WHERE i.producer_run_id IS NOT NULL AND chain.depth < 32)
            SELECT max(s.updated_at) AS ready_at
            FROM chain JOIN run_inputs i ON i.run_id = chain.run_id
                 JOIN slices s ON s.dataset = i.dataset AND s.slice_start = i.slice_start
            WHERE i.producer_run_id IS NULL AND s.state = 'Ready'
            """, [.text(runID)]).first.flatMap { StoreText.instant($0, "ready_at") }
    }

    private static func window(_ row: Row) -> HistorySnapshot.Window? {
        guard let id = row.int64("id"), let pipeline = row.string("pipeline"), let activity = row.string("activity"),
              let start = StoreText.instant(row, "window_start"), let end = StoreText.instant(row, "window_end"),
              let state = row.string("state") else { return nil }
        return HistorySnapshot.Window(id: id, pipeline: pipeline, activity: activity, window: Slice(start: start, end: end), state: state,
                                      substate: row.string("substate"), attempts: row.int("attempts") ?? 0,
                                      updatedAt: StoreText.instant(row, "updated_at"))
    }

    private static func slice(_ row: Row) -> HistorySnapshot.DataSlice? {
        guard let id = row.int64("id"), let dataset = row.string("dataset"), let start = StoreText.instant(row, "slice_start"),
              let end = StoreText.instant(row, "slice_end"), let state = row.string("state") else { return nil }
        let landed = row.string("fingerprint").flatMap(StoreText.fingerprint)?.files.compactMap(\.modified).max()
        return HistorySnapshot.DataSlice(id: id, dataset: dataset, slice: Slice(start: start, end: end), state: state,
                                         substate: row.string("substate"), checkCount: row.int("check_count") ?? 0,
                                         message: row.string("message"), updatedAt: StoreText.instant(row, "updated_at"),
                                         landedAt: landed.map { Instant(secondsSinceEpoch: $0) })
    }

    private static func run(_ row: Row) -> HistorySnapshot.Run? {
        guard let runID = row.string("run_id"), let windowID = row.int64("window_id"), let pipeline = row.string("pipeline"),
              let activity = row.string("activity"), let start = StoreText.instant(row, "window_start"),
              let startedAt = StoreText.instant(row, "started_at") else { return nil }
        return HistorySnapshot.Run(runID: runID, windowID: windowID, pipeline: pipeline, activity: activity, windowStart: start,
                                   attempt: row.int("attempt") ?? 0, trigger: row.string("run_trigger") ?? "",
                                   status: row.string("status") ?? "", substatus: row.string("substatus"), startedAt: startedAt,
                                   endedAt: StoreText.instant(row, "ended_at"), errorClass: row.string("error_class"),
                                   errorMessage: row.string("error_message"), externalJobID: row.string("external_job_id"))
    }

    private static func deployment(_ row: Row) -> HistorySnapshot.Deployment? {
        guard let id = row.int64("id"), let endpoint = row.string("endpoint"), let location = row.string("model_location"),
              let modelStart = StoreText.instant(row, "model_window_start"), let pipeline = row.string("pipeline"),
              let activity = row.string("activity"), let runID = row.string("run_id"),
              let deployedAt = StoreText.instant(row, "deployed_at") else { return nil }
        return HistorySnapshot.Deployment(id: id, endpoint: endpoint, modelLocation: location, modelWindowStart: modelStart,
                                          pipeline: pipeline, activity: activity, runID: runID, deployedAt: deployedAt,
                                          replacedDeploymentID: row.int64("replaced_deployment_id"), reason: row.string("reason") ?? "",
                                          forced: row.int("forced") == 1, dataReadyAt: nil)
    }

    private static func evaluation(_ row: Row) -> HistorySnapshot.Evaluation? {
        guard let runID = row.string("run_id"), let pipeline = row.string("pipeline"), let activity = row.string("activity"),
              let start = StoreText.instant(row, "window_start"), let endedAt = StoreText.instant(row, "ended_at"),
              let text = row.string("evaluation"), let metrics = HistorySnapshot.Evaluation.metrics(evaluationJSON: text) else { return nil }
        return HistorySnapshot.Evaluation(pipeline: pipeline, activity: activity, windowStart: start, runID: runID, evaluatedAt: endedAt,
                                          metrics: metrics)
    }
}
