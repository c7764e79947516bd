import Foundation
import RefitCore

/// Reads what `refit status` shows: window counts, running attempts and their leases, the last
/// failure, live workers and what each update activity's endpoint serves. Read-only: it never
/// writes, so it works on a database another process is using.
public struct StatusRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    /// An attempt in progress and the lease that keeps it.
    public struct RunningAttempt: Hashable, Sendable {
        public var runID: String
        public var activity: String
        public var window: Slice
        public var attempt: Int
        public var startedAt: Instant
        public var leaseOwner: String?
        public var leaseExpiresAt: Instant?

        public init(runID: String, activity: String, window: Slice, attempt: Int, startedAt: Instant, leaseOwner: String?,
                    leaseExpiresAt: Instant?) {
            self.runID = runID; self.activity = activity; self.window = window; self.attempt = attempt; self.startedAt = startedAt
            self.leaseOwner = leaseOwner; self.leaseExpiresAt = leaseExpiresAt
        }
    }

    /// What an endpoint serves now, per the deployments recorded.
    public struct Serving: Hashable, Sendable {
        public var endpoint: String
        public var modelLocation: String
        public var modelWindowStart: Instant
        public var runID: String
        public var deployedAt: Instant

        public init(endpoint: String, modelLocation: String, modelWindowStart: Instant, runID: String, deployedAt: Instant) {
            self.endpoint = endpoint; self.modelLocation = modelLocation; self.modelWindowStart = modelWindowStart
            self.runID = runID; self.deployedAt = deployedAt
        }
    }

    /// Every state, as the IN list that lets a count by state for one pipeline read only
    /// windows_by_state (state, pipeline, …), one range per state, without the table.
    static let everyState = WindowStatus.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// The pipeline's windows per state.
    public func windowCounts(pipeline: String) throws -> [WindowStatus: Int] {
        var counts: [WindowStatus: Int] = [:]
        for row in try database.query(
            "SELECT state, count(*) AS n FROM windows WHERE state IN (\(Self.everyState)) AND pipeline = ? GROUP BY state",
            [.text(pipeline)]) {
            guard let state = row.string("state").flatMap(WindowStatus.init(rawValue:)) else { continue }
            counts[state] = row.int("n") ?? 0
        }
        return counts
    }

    /// The pipeline's attempts in progress, oldest first.
    public func running(pipeline: String) throws -> [RunningAttempt] {
        try database.query("""
            SELECT r.run_id, w.activity, w.window_start, w.window_end, r.attempt, r.started_at, w.lease_owner, w.lease_expires_at
            FROM runs r JOIN windows w ON w.id = r.window_id
            WHERE w.pipeline = ? AND r.status = 'InProgress' ORDER BY r.started_at, r.rowid
            """, [.text(pipeline)]).compactMap { row -> RunningAttempt? in
            guard let runID = row.string("run_id"), let activity = row.string("activity"),
                  let start = StoreText.instant(row, "window_start"), let end = StoreText.instant(row, "window_end"),
                  let startedAt = StoreText.instant(row, "started_at") else { return nil }
            return RunningAttempt(runID: runID, activity: activity, window: Slice(start: start, end: end), attempt: row.int("attempt") ?? 0,
                                  startedAt: startedAt, leaseOwner: row.string("lease_owner"),
                                  leaseExpiresAt: StoreText.instant(row, "lease_expires_at"))
        }
    }

    /// The pipeline's most recent failed or timed-out attempt.
    public func lastFailure(pipeline: String) throws -> RunRecord? {
        try database.query("""
            \(RunRecord.select) WHERE w.pipeline = ? AND r.status IN ('Failed', 'TimedOut', 'Canceled')
            ORDER BY r.ended_at DESC, r.rowid DESC LIMIT 1
            """, [.text(pipeline)]).first.flatMap(RunRecord.init(row:))
    }

    /// Workers holding an unexpired lease at `now` (the ones working right now), by name.
    public func liveWorkers(pipeline: String? = nil, now: Instant) throws -> [String] {
        try database.query("""
            SELECT DISTINCT lease_owner FROM windows
            WHERE lease_owner IS NOT NULL AND lease_expires_at >= ? AND (? IS NULL OR pipeline = ?) ORDER BY lease_owner
            """, [StoreText.text(now), SQLiteValue(pipeline), SQLiteValue(pipeline)]).compactMap { $0.string("lease_owner") }
    }

    /// What the endpoint the activity last deployed to serves now (possibly deployed by another
    /// activity), or nil when the activity never deployed.
    public func serving(pipeline: String, activity: String) throws -> Serving? {
        try database.query("""
            SELECT d.endpoint, d.model_location, d.model_window_start, d.run_id, d.deployed_at FROM deployments d
            WHERE d.id = (SELECT max(id) FROM deployments WHERE endpoint =
                (SELECT d2.endpoint FROM deployments d2 JOIN runs r ON r.run_id = d2.run_id JOIN windows w ON w.id = r.window_id
                 WHERE w.pipeline = ? AND w.activity = ? ORDER BY d2.id DESC LIMIT 1))
            """, [.text(pipeline), .text(activity)]).first.flatMap { row -> Serving? in
            guard let endpoint = row.string("endpoint"), let location = row.string("model_location"),
                  let start = StoreText.instant(row, "model_window_start"), let runID = row.string("run_id"),
                  let at = StoreText.instant(row, "deployed_at") else { return nil }
            return Serving(endpoint: endpoint, modelLocation: location, modelWindowStart: start, runID: runID, deployedAt: at)
        }
    }
}
