import Foundation
import RefitCore

/// One attempt as `refit history` shows it: the run row joined with its window.
public struct RunRecord: Hashable, Sendable {
    public var runID: String
    public var windowID: Int64
    public var pipeline: String
    public var activity: String
    public var window: Slice
    public var attempt: Int
    public var trigger: String
    /// InProgress, Succeeded, Failed, TimedOut, Canceled or Skipped.
    public var status: String
    public var substatus: String?
    public var workerID: String
    public var startedAt: Instant
    public var endedAt: Instant?
    public var errorClass: String?
    public var errorMessage: String?
    public var externalJobID: String?
    public var resultJSON: String?
    public var definitionSHA256: String
    /// While the attempt runs: when its worker's lease expires (renewed by its heartbeat).
    public var leaseExpiresAt: Instant?

    public init(runID: String, windowID: Int64, pipeline: String, activity: String, window: Slice, attempt: Int, trigger: String,
                status: String, substatus: String?, workerID: String, startedAt: Instant, endedAt: Instant?, errorClass: String?,
                errorMessage: String?, externalJobID: String?, resultJSON: String?, definitionSHA256: String, leaseExpiresAt: Instant?) {
        self.runID = runID; self.windowID = windowID; self.pipeline = pipeline; self.activity = activity; self.window = window
        self.attempt = attempt; self.trigger = trigger; self.status = status; self.substatus = substatus; self.workerID = workerID
        self.startedAt = startedAt; self.endedAt = endedAt; self.errorClass = errorClass; self.errorMessage = errorMessage
        self.externalJobID = externalJobID; self.resultJSON = resultJSON; self.definitionSHA256 = definitionSHA256
        self.leaseExpiresAt = leaseExpiresAt
    }

    static let select = """
        SELECT r.run_id, r.window_id, w.pipeline, w.activity, w.window_start, w.window_end, r.attempt, r."trigger" AS run_trigger,
               r.status, r.substatus, r.worker_id, r.started_at, r.ended_at, r.error_class, r.error_message,
               r.external_job_id, r.result, r.definition_sha256,
               CASE WHEN r.status = 'InProgress' AND w.lease_owner = r.worker_id THEN w.lease_expires_at END AS lease_expires_at
        FROM runs AS r JOIN windows AS w ON w.id = r.window_id
        """

    init?(row: Row) {
        guard let runID = row.string("run_id"), let windowID = row.int64("window_id"), let pipeline = row.string("pipeline"),
              let activity = row.string("activity"), let start = StoreText.instant(row, "window_start"),
              let end = StoreText.instant(row, "window_end"), let startedAt = StoreText.instant(row, "started_at") else { return nil }
        self.runID = runID; self.windowID = windowID; self.pipeline = pipeline; self.activity = activity
        window = Slice(start: start, end: end)
        attempt = row.int("attempt") ?? 0
        trigger = row.string("run_trigger") ?? ""
        status = row.string("status") ?? ""
        substatus = row.string("substatus")
        workerID = row.string("worker_id") ?? ""
        self.startedAt = startedAt
        endedAt = StoreText.instant(row, "ended_at")
        errorClass = row.string("error_class")
        errorMessage = row.string("error_message")
        externalJobID = row.string("external_job_id")
        resultJSON = row.string("result")
        definitionSHA256 = row.string("definition_sha256") ?? ""
        leaseExpiresAt = StoreText.instant(row, "lease_expires_at")
    }
}

/// One journal step of a run (written by the activities' step journal).
public struct RunStepRecord: Hashable, Sendable {
    public var seq: Int
    public var name: String
    public var state: String
    public var intentJSON: String
    public var resultJSON: String?
    public var startedAt: String
    public var endedAt: String?

    public init(seq: Int, name: String, state: String, intentJSON: String, resultJSON: String?, startedAt: String, endedAt: String?) {
        self.seq = seq; self.name = name; self.state = state; self.intentJSON = intentJSON; self.resultJSON = resultJSON
        self.startedAt = startedAt; self.endedAt = endedAt
    }
}

/// Filters for `refit history`; nil means "any".
public struct RunFilter: Hashable, Sendable {
    public var pipeline: String?
    public var activity: String?
    public var since: Instant?
    public var status: String?
    public init(pipeline: String? = nil, activity: String? = nil, since: Instant? = nil, status: String? = nil) {
        self.pipeline = pipeline; self.activity = activity; self.since = since; self.status = status
    }
}

/// Read access to run history, journal steps and a run's audit events.
public struct RunRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    /// Attempts matching `filter`, in start order (ties in claim order).
    public func history(_ filter: RunFilter = RunFilter()) throws -> [RunRecord] {
        try database.query("""
            \(RunRecord.select)
            WHERE (:pipeline IS NULL OR w.pipeline = :pipeline) AND (:activity IS NULL OR w.activity = :activity)
              AND (:since IS NULL OR r.started_at >= :since) AND (:status IS NULL OR r.status = :status)
            ORDER BY r.started_at, r.rowid
            """, named: ["pipeline": SQLiteValue(filter.pipeline), "activity": SQLiteValue(filter.activity),
                         "since": StoreText.text(filter.since), "status": SQLiteValue(filter.status)])
            .compactMap(RunRecord.init(row:))
    }

    public func run(id: String) throws -> RunRecord? {
        try database.query("\(RunRecord.select) WHERE r.run_id = ?", [.text(id)]).first.flatMap(RunRecord.init(row:))
    }

    public func steps(runID: String) throws -> [RunStepRecord] {
        try database.query("SELECT seq, name, state, intent, result, started_at, ended_at FROM steps WHERE run_id = ? ORDER BY seq",
                           [.text(runID)]).map { row in
            RunStepRecord(seq: row.int("seq") ?? 0, name: row.string("name") ?? "", state: row.string("state") ?? "",
                       intentJSON: row.string("intent") ?? "{}", resultJSON: row.string("result"),
                       startedAt: row.string("started_at") ?? "", endedAt: row.string("ended_at"))
        }
    }

    /// The audit events naming the run, in order.
    public func events(runID: String) throws -> [AuditEvent] {
        try database.query("""
            SELECT id, at, kind, pipeline, activity, window_start, run_id, detail, prev_hash, hash FROM events
            WHERE run_id = ? ORDER BY id
            """, [.text(runID)]).map(AuditEvent.init(row:))
    }
}
