import RefitCore
import RefitStore

/// What `refit lineage` reads, from PostgreSQL: the same entries as the SQLite
/// `LineageRepository` (claim order is `runs.seq`, SQLite's rowid). Read-only.
public struct PostgresLineageReader: LineageReading {
    let database: PostgresDatabase

    public init(_ store: PostgresSchedulingStore) { database = store.database }

    static let select = """
        SELECT d.id, d.endpoint, d.model_location, d.model_window_start, d.run_id, d.deployed_at, d.reason, d.output_id,
               w.pipeline, w.activity, w.window_start, r.definition_sha256,
               (d.id = (SELECT max(id) FROM deployments WHERE endpoint = d.endpoint)) AS serving,
               (SELECT o."trigger" FROM runs o WHERE o.window_id = r.window_id AND o."trigger" <> 'retry' AND o.started_at <= r.started_at
                 ORDER BY o.started_at DESC, o.seq DESC LIMIT 1) AS original_trigger
        FROM deployments d JOIN runs r ON r.run_id = d.run_id JOIN windows w ON w.id = r.window_id
        """

    public func deployments(pipeline: String, activity: String) throws -> [LineageRepository.Entry] {
        try database.snapshotNow { c in
            try Self.entries(c, c.query("\(Self.select) WHERE w.pipeline = $1 AND w.activity = $2 ORDER BY d.id DESC",
                                        [.text(pipeline), .text(activity)]))
        }
    }

    public func deployments(fromRun runID: String) throws -> [LineageRepository.Entry] {
        try database.snapshotNow { c in
            try Self.entries(c, c.query("""
                \(Self.select) WHERE d.run_id = $1
                   OR d.output_id IN (SELECT id FROM outputs WHERE run_id = $1)
                   OR d.model_location IN (SELECT location FROM outputs WHERE run_id = $1)
                ORDER BY d.id DESC
                """, [.text(runID)]))
        }
    }

    public func deployments(fromDataset dataset: String, slice start: Instant) throws -> [LineageRepository.Entry] {
        try database.snapshotNow { c in
            try Self.entries(c, c.query("""
                \(Self.select) WHERE d.run_id IN (SELECT run_id FROM run_inputs WHERE dataset = $1 AND slice_start = $2)
                   OR d.output_id IN (SELECT o.id FROM outputs o JOIN run_inputs i ON i.run_id = o.run_id
                                      WHERE i.dataset = $1 AND i.slice_start = $2)
                ORDER BY d.id DESC
                """, [.text(dataset), .timestamp(start)]))
        }
    }

    public func runExists(_ runID: String) throws -> Bool {
        try database.readNow { c in try !c.query("SELECT 1 FROM runs WHERE run_id = $1", [.text(runID)]).isEmpty }
    }

    public func sliceWasRead(dataset: String, start: Instant) throws -> Bool {
        try database.readNow { c in
            try !c.query("SELECT 1 FROM run_inputs WHERE dataset = $1 AND slice_start = $2 LIMIT 1", [.text(dataset), .timestamp(start)]).isEmpty
        }
    }

    private static func entries(_ c: PostgresConnection, _ rows: [PostgresRow]) throws -> [LineageRepository.Entry] {
        try rows.compactMap { row -> LineageRepository.Entry? in
            guard let id = row.int64("id"), let endpoint = row.string("endpoint"), let location = row.string("model_location"),
                  let runID = row.string("run_id"), let at = row.instant("deployed_at"),
                  let pipeline = row.string("pipeline"), let activity = row.string("activity"),
                  let windowStart = row.instant("window_start") else { return nil }
            return LineageRepository.Entry(
                deploymentID: id, endpoint: endpoint, pipeline: pipeline, activity: activity, windowStart: windowStart,
                deployRunID: runID, deployedAt: at, reason: row.string("reason") ?? "", originalTrigger: row.string("original_trigger"),
                serving: row.string("serving") == "t", modelLocation: location, definitionSHA256: row.string("definition_sha256") ?? "",
                trainedBy: try training(c, outputID: row.int64("output_id"), location: location))
        }
    }

    /// The run that produced the model: by the recorded output id, else by its location.
    private static func training(_ c: PostgresConnection, outputID: Int64?, location: String) throws -> LineageRepository.Training? {
        let output = try c.query("""
            SELECT o.run_id, o.evaluation, w.activity, w.window_start, r.external_job_id
            FROM outputs o JOIN runs r ON r.run_id = o.run_id JOIN windows w ON w.id = r.window_id
            WHERE ($1::bigint IS NOT NULL AND o.id = $1::bigint) OR ($1::bigint IS NULL AND o.location = $2)
            ORDER BY o.id DESC LIMIT 1
            """, [PostgresValue(outputID), .text(location)]).first
        guard let output, let runID = output.string("run_id"), let activity = output.string("activity"),
              let start = output.instant("window_start") else { return nil }
        let inputs = try c.query("""
            SELECT dataset, slice_start, fingerprint FROM run_inputs WHERE run_id = $1 ORDER BY dataset COLLATE "C", slice_start
            """, [.text(runID)]).compactMap { row -> LineageRepository.Input? in
            guard let dataset = row.string("dataset"), let sliceStart = row.instant("slice_start") else { return nil }
            return LineageRepository.Input(dataset: dataset, sliceStart: sliceStart, fingerprintJSON: row.string("fingerprint"))
        }
        return LineageRepository.Training(activity: activity, runID: runID, windowStart: start, externalJobID: output.string("external_job_id"),
                                          metricsJSON: output.string("evaluation"), inputs: inputs)
    }
}
