import Foundation
import RefitCore

/// `refit history` beyond `RunFilter`: one window, newest or oldest first, a row limit.
public struct RunQuery: Hashable, Sendable {
    public enum Order: String, Hashable, Sendable, CaseIterable { case oldest, newest }

    public var filter: RunFilter
    /// Only attempts of windows starting exactly here.
    public var windowStart: Instant?
    public var order: Order
    /// At most this many rows (the first ones in `order`).
    public var limit: Int?

    public init(filter: RunFilter = RunFilter(), windowStart: Instant? = nil, order: Order = .oldest, limit: Int? = nil) {
        self.filter = filter; self.windowStart = windowStart; self.order = order; self.limit = limit
    }
}

/// A job an attempt resumed rather than submitted: the job id and the earlier run that
/// submitted it (found in the window's journal).
public struct ResumedJob: Hashable, Sendable {
    public var jobID: String
    public var submittedByRunID: String
}

extension RunRepository {
    /// Attempts matching `query`, in start order (ties in claim order), reversed for `.newest`.
    public func history(_ query: RunQuery) throws -> [RunRecord] {
        let direction = query.order == .newest ? "DESC" : "ASC"
        let filter = query.filter
        return try database.query("""
            \(RunRecord.select)
            WHERE (:pipeline IS NULL OR w.pipeline = :pipeline) AND (:activity IS NULL OR w.activity = :activity)
              AND (:since IS NULL OR r.started_at >= :since) AND (:status IS NULL OR r.status = :status)
              AND (:window IS NULL OR w.window_start = :window)
            ORDER BY r.started_at \(direction), r.rowid \(direction)
            LIMIT :limit
            """, named: ["pipeline": SQLiteValue(filter.pipeline), "activity": SQLiteValue(filter.activity),
                         "since": StoreText.text(filter.since), "status": SQLiteValue(filter.status),
                         "window": StoreText.text(query.windowStart), "limit": .integer(Int64(query.limit ?? -1))])
            .compactMap(RunRecord.init(row:))
    }

    /// Runs whose id starts with `prefix` (at most `limit`, in id order): one for a unique prefix.
    public func runs(idPrefix prefix: String, limit: Int = 10) throws -> [RunRecord] {
        try database.query("""
            \(RunRecord.select) WHERE substr(r.run_id, 1, length(:prefix)) = :prefix ORDER BY r.run_id LIMIT :limit
            """, named: ["prefix": .text(prefix), "limit": .integer(Int64(limit))]).compactMap(RunRecord.init(row:))
    }

    /// Whether any window of `pipeline` (and of `activity`, when given) is recorded.
    public func hasWindows(pipeline: String?, activity: String? = nil) throws -> Bool {
        try !database.query("""
            SELECT 1 FROM windows WHERE (:pipeline IS NULL OR pipeline = :pipeline) AND (:activity IS NULL OR activity = :activity) LIMIT 1
            """, named: ["pipeline": SQLiteValue(pipeline), "activity": SQLiteValue(activity)]).isEmpty
    }

    /// The latest run of the window, other than `runID`, whose `submit` step created `jobID`
    /// (what `resumedJobs(of:)` asks for each job a run did not submit itself).
    public func submitRun(windowID: Int64, excluding runID: String, jobID: String) throws -> String? {
        try database.query("""
            SELECT s.run_id FROM steps AS s JOIN runs AS r ON r.run_id = s.run_id
            WHERE r.window_id = ? AND s.name = 'submit' AND s.run_id <> ?
              AND json_valid(s.result) AND json_extract(s.result, '$.jobId') = ?
            ORDER BY r.rowid DESC LIMIT 1
            """, [.integer(windowID), .text(runID), .text(jobID)]).first?.string("run_id")
    }
}
