import RefitCore

/// The totals `/metrics` and `refit metrics` derive from the database: windows per state, runs
/// per outcome, deployments per kind, and when a window's input data landed. Read-only.
public struct MetricsRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    /// A count under one (pipeline, activity, label value).
    public struct Count: Hashable, Sendable {
        public var pipeline: String
        public var activity: String
        public var value: String
        public var count: Int

        /// A count as a store read it.
        public init(pipeline: String, activity: String, value: String, count: Int) {
            self.pipeline = pipeline; self.activity = activity; self.value = value; self.count = count
        }
    }

    /// Windows per (pipeline, activity, state).
    public func windowCounts() throws -> [Count] {
        try counts("SELECT pipeline, activity, state AS value, count(*) AS n FROM windows GROUP BY pipeline, activity, state")
    }

    /// Ended runs per (pipeline, activity, status): what history records as each attempt's outcome.
    public func runOutcomes() throws -> [Count] {
        try counts("""
            SELECT w.pipeline, w.activity, r.status AS value, count(*) AS n FROM runs r JOIN windows w ON w.id = r.window_id
            WHERE r.status <> 'InProgress' GROUP BY w.pipeline, w.activity, r.status
            """)
    }

    /// Deployments per (pipeline, activity, kind): `deploy`, `forced`, `rollback` from the
    /// deployments recorded, and `superseded`/`skipped` from the update runs that ended Skipped
    /// (the caller keeps the update activities' rows of those).
    public func deploymentCounts() throws -> [Count] {
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

    /// What one endpoint serves: its latest deployment, and the activity whose run deployed it.
    public struct ServedModel: Hashable, Sendable {
        public var pipeline: String
        public var activity: String
        public var endpoint: String
        public var modelWindowStart: Instant
        /// nil for deployments recorded without it.
        public var modelWindowEnd: Instant?

        /// An endpoint's latest deployment as a store read it.
        public init(pipeline: String, activity: String, endpoint: String, modelWindowStart: Instant, modelWindowEnd: Instant?) {
            self.pipeline = pipeline; self.activity = activity; self.endpoint = endpoint
            self.modelWindowStart = modelWindowStart; self.modelWindowEnd = modelWindowEnd
        }
    }

    /// Every endpoint's latest deployment (what it serves now, rollbacks included).
    public func servedModels() throws -> [ServedModel] {
        try database.query("""
            SELECT w.pipeline, w.activity, d.endpoint, d.model_window_start, d.model_window_end
            FROM deployments d JOIN runs r ON r.run_id = d.run_id JOIN windows w ON w.id = r.window_id
            WHERE d.id IN (SELECT max(id) FROM deployments GROUP BY endpoint)
            ORDER BY d.endpoint
            """).compactMap { row in
            guard let pipeline = row.string("pipeline"), let activity = row.string("activity"), let endpoint = row.string("endpoint"),
                  let start = StoreText.instant(row, "model_window_start") else { return nil }
            return ServedModel(pipeline: pipeline, activity: activity, endpoint: endpoint, modelWindowStart: start,
                               modelWindowEnd: StoreText.instant(row, "model_window_end"))
        }
    }

    /// When the window's input data landed: the latest time one of its input slices became
    /// Ready (nil while an input is not Ready, or the window has no recorded inputs).
    public func dataReadyAt(pipeline: String, activity: String, windowStart: Instant) throws -> Instant? {
        let row = try database.query("""
            SELECT max(s.updated_at) AS landed, sum(s.state <> 'Ready') AS pending
            FROM windows w JOIN window_inputs wi ON wi.window_id = w.id
            JOIN slices s ON s.dataset = wi.dataset AND s.slice_start = wi.slice_start
            WHERE w.pipeline = ? AND w.activity = ? AND w.window_start = ?
            """, [.text(pipeline), .text(activity), StoreText.text(windowStart)]).first
        guard let row, (row.int("pending") ?? 1) == 0 else { return nil }
        return StoreText.instant(row, "landed")
    }

    private func counts(_ sql: String) throws -> [Count] {
        try database.query(sql).compactMap { row in
            guard let pipeline = row.string("pipeline"), let activity = row.string("activity"), let value = row.string("value") else {
                return nil
            }
            return Count(pipeline: pipeline, activity: activity, value: value, count: row.int("n") ?? 0)
        }
    }
}
