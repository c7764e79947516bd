import Foundation
import RefitCore

/// Reads deployment lineage (`refit lineage`): which model each deployment put on an endpoint,
/// which training run produced it, on which input slices (with the data fingerprints seen at
/// claim time), and the reverse — what a training run or a data slice led to. Read-only.
public struct LineageRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    /// One input slice a training run read.
    public struct Input: Hashable, Sendable {
        public var dataset: String
        public var sliceStart: Instant
        public var fingerprintJSON: String?

        public init(dataset: String, sliceStart: Instant, fingerprintJSON: String?) {
            self.dataset = dataset; self.sliceStart = sliceStart; self.fingerprintJSON = fingerprintJSON
        }
    }

    /// The training run behind a deployed model.
    public struct Training: Hashable, Sendable {
        public var activity: String
        public var runID: String
        public var windowStart: Instant
        public var externalJobID: String?
        public var metricsJSON: String?
        public var inputs: [Input]

        public init(activity: String, runID: String, windowStart: Instant, externalJobID: String?, metricsJSON: String?, inputs: [Input]) {
            self.activity = activity; self.runID = runID; self.windowStart = windowStart; self.externalJobID = externalJobID
            self.metricsJSON = metricsJSON; self.inputs = inputs
        }
    }

    /// One deployment and where its model came from.
    public struct Entry: Hashable, Sendable {
        public var deploymentID: Int64
        public var endpoint: String
        public var pipeline: String
        public var activity: String
        public var windowStart: Instant
        public var deployRunID: String
        public var deployedAt: Instant
        /// deployments.reason: the deploying run's trigger (or an operator's word).
        public var reason: String
        /// The trigger of the last non-retry run of the deploying window (what a `retry` continued).
        public var originalTrigger: String?
        public var serving: Bool
        public var modelLocation: String
        public var definitionSHA256: String
        public var trainedBy: Training?

        public init(deploymentID: Int64, endpoint: String, pipeline: String, activity: String, windowStart: Instant, deployRunID: String,
                    deployedAt: Instant, reason: String, originalTrigger: String?, serving: Bool, modelLocation: String,
                    definitionSHA256: String, trainedBy: Training?) {
            self.deploymentID = deploymentID; self.endpoint = endpoint; self.pipeline = pipeline; self.activity = activity
            self.windowStart = windowStart; self.deployRunID = deployRunID; self.deployedAt = deployedAt; self.reason = reason
            self.originalTrigger = originalTrigger; self.serving = serving; self.modelLocation = modelLocation
            self.definitionSHA256 = definitionSHA256; self.trainedBy = trainedBy
        }
    }

    static let select = """
        SELECT d.id, d.endpoint, d.model_location, d.model_window_start, d.run_id, d.deployed_at, d.reason, d.output_id,
               w.pipeline, w.activity, w.window_start, r.definition_sha256,
               (d.id = (SELECT max(id) FROM deployments WHERE endpoint = d.endpoint)) AS serving,
               (SELECT o."trigger" FROM runs o WHERE o.window_id = r.window_id AND o."trigger" <> 'retry' AND o.started_at <= r.started_at
                 ORDER BY o.started_at DESC, o.rowid DESC LIMIT 1) AS original_trigger
        FROM deployments d JOIN runs r ON r.run_id = d.run_id JOIN windows w ON w.id = r.window_id
        """

    /// Deployments made by the activity's runs, newest first.
    public func deployments(pipeline: String, activity: String) throws -> [Entry] {
        try entries(database.query("\(Self.select) WHERE w.pipeline = ? AND w.activity = ? ORDER BY d.id DESC",
                                   [.text(pipeline), .text(activity)]))
    }

    /// Deployments a run led to: its own (an update run), or those of the models it trained.
    public func deployments(fromRun runID: String) throws -> [Entry] {
        try entries(database.query("""
            \(Self.select) WHERE d.run_id = ?1
               OR d.output_id IN (SELECT id FROM outputs WHERE run_id = ?1)
               OR d.model_location IN (SELECT location FROM outputs WHERE run_id = ?1)
            ORDER BY d.id DESC
            """, [.text(runID)]))
    }

    /// Deployments of models trained on the data slice (runs that read it, and what they deployed).
    public func deployments(fromDataset dataset: String, slice start: Instant) throws -> [Entry] {
        try entries(database.query("""
            \(Self.select) WHERE d.run_id IN (SELECT run_id FROM run_inputs WHERE dataset = ?1 AND slice_start = ?2)
               OR d.output_id IN (SELECT o.id FROM outputs o JOIN run_inputs i ON i.run_id = o.run_id
                                  WHERE i.dataset = ?1 AND i.slice_start = ?2)
            ORDER BY d.id DESC
            """, [.text(dataset), StoreText.text(start)]))
    }

    /// Whether a run with this id exists.
    public func runExists(_ runID: String) throws -> Bool {
        try !database.query("SELECT 1 FROM runs WHERE run_id = ?", [.text(runID)]).isEmpty
    }

    /// Whether any run read this slice.
    public func sliceWasRead(dataset: String, start: Instant) throws -> Bool {
        try !database.query("SELECT 1 FROM run_inputs WHERE dataset = ? AND slice_start = ? LIMIT 1",
                            [.text(dataset), StoreText.text(start)]).isEmpty
    }

    private func entries(_ rows: [Row]) throws -> [Entry] {
        try rows.compactMap { row -> Entry? in
            guard let id = row.int64("id"), let endpoint = row.string("endpoint"), let location = row.string("model_location"),
                  let runID = row.string("run_id"), let at = StoreText.instant(row, "deployed_at"),
                  let pipeline = row.string("pipeline"), let activity = row.string("activity"),
                  let windowStart = StoreText.instant(row, "window_start") else { return nil }
            return Entry(deploymentID: id, endpoint: endpoint, pipeline: pipeline, activity: activity, windowStart: windowStart,
                         deployRunID: runID, deployedAt: at, reason: row.string("reason") ?? "",
                         originalTrigger: row.string("original_trigger"), serving: row.int("serving") == 1,
                         modelLocation: location, definitionSHA256: row.string("definition_sha256") ?? "",
                         trainedBy: try training(outputID: row.int64("output_id"), location: location))
        }
    }

    /// The run that produced the model: by the recorded output id, else by its location.
    private func training(outputID: Int64?, location: String) throws -> Training? {
        let output = try database.query("""
            SELECT o.run_id, o.evaluation, w.activity, w.window_start, r.external_job_id
            FROM outputs o JOIN runs r ON r.run_id = o.run_id JOIN windows w ON w.id = r.window_id
            WHERE (?1 IS NOT NULL AND o.id = ?1) OR (?1 IS NULL AND o.location = ?2)
            ORDER BY o.id DESC LIMIT 1
            """, [SQLiteValue(outputID), .text(location)]).first
        guard let output, let runID = output.string("run_id"), let activity = output.string("activity"),
              let start = StoreText.instant(output, "window_start") else { return nil }
        let inputs = try database.query("SELECT dataset, slice_start, fingerprint FROM run_inputs WHERE run_id = ? ORDER BY dataset, slice_start",
                                        [.text(runID)]).compactMap { row -> Input? in
            guard let dataset = row.string("dataset"), let sliceStart = StoreText.instant(row, "slice_start") else { return nil }
            return Input(dataset: dataset, sliceStart: sliceStart, fingerprintJSON: row.string("fingerprint"))
        }
        return Training(activity: activity, runID: runID, windowStart: start, externalJobID: output.string("external_job_id"),
                        metricsJSON: output.string("evaluation"), inputs: inputs)
    }
}
