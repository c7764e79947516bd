import RefitCore
import RefitStore

/// What the metrics exposition's database families read, from PostgreSQL: the same totals as
/// the SQLite `MetricsRepository` (windows per state, ended attempts per outcome, deployments
/// per kind, what each endpoint serves). Read-only.
public struct PostgresMetricsReader: MetricsReading {
    let database: PostgresDatabase

    public init(_ store: PostgresSchedulingStore) { database = store.database }

    public func windowCounts() throws -> [MetricsRepository.Count] {
        try counts("SELECT pipeline, activity, state AS value, count(*) AS n FROM windows GROUP BY pipeline, activity, state")
    }

    public func runOutcomes() throws -> [MetricsRepository.Count] {
        try counts("""
            SELECT w.pipeline, w.activity, r.status AS value, count(*) AS n FROM runs r JOIN windows w ON w.id = r.window_id
            WHERE r.status <> 'InProgress' GROUP BY w.pipeline, w.activity, r.status
            """)
    }

    public func deploymentCounts() throws -> [MetricsRepository.Count] {
        try counts("""
            SELECT w.pipeline, w.activity,
                   CASE WHEN d.reason = 'rollback' THEN 'rollback' WHEN d.forced = 1 THEN 'forced' ELSE 'deploy' END AS value,
                   count(*) AS n
            FROM deployments d JOIN runs r ON r.run_id = d.run_id JOIN windows w ON w.id = r.window_id
            GROUP BY 1, 2, 3
            UNION ALL
            SELECT w.pipeline, w.activity, CASE WHEN r.substatus = 'Superseded' THEN 'superseded' ELSE 'skipped' END AS value,
                   count(*) AS n
            FROM runs r JOIN windows w ON w.id = r.window_id WHERE r.status = 'Skipped'
            GROUP BY 1, 2, 3
            """)
    }

    public func servedModels() throws -> [MetricsRepository.ServedModel] {
        try database.readNow { c in
            try c.query("""
                SELECT w.pipeline, w.activity, d.endpoint, d.model_window_start, d.model_window_end
                FROM deployments d JOIN runs r ON r.run_id = d.run_id JOIN windows w ON w.id = r.window_id
                WHERE d.id IN (SELECT max(id) FROM deployments GROUP BY endpoint)
                ORDER BY d.endpoint COLLATE "C"
                """).compactMap { row -> MetricsRepository.ServedModel? in
                guard let pipeline = row.string("pipeline"), let activity = row.string("activity"), let endpoint = row.string("endpoint"),
                      let start = row.instant("model_window_start") else { return nil }
                return MetricsRepository.ServedModel(pipeline: pipeline, activity: activity, endpoint: endpoint, modelWindowStart: start,
                                                     modelWindowEnd: row.instant("model_window_end"))
            }
        }
    }

    private func counts(_ sql: String) throws -> [MetricsRepository.Count] {
        try database.readNow { c in
            try c.query(sql).compactMap { row -> MetricsRepository.Count? in
                guard let pipeline = row.string("pipeline"), let activity = row.string("activity"), let value = row.string("value") else {
                    return nil
                }
                return MetricsRepository.Count(pipeline: pipeline, activity: activity, value: value, count: row.int("n") ?? 0)
            }
        }
    }
}
