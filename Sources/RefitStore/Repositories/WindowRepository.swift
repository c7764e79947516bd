import Foundation
import RefitCore

/// Reading activity windows for listings (`refit slices`, tests): every scheduling write goes
/// through `SQLiteSchedulingStore`.
public struct WindowRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    public func window(id: Int64) throws -> WindowRecord? {
        try database.withConnection { try SQLiteSchedulingStore.window($0, id: id) }
    }

    public func window(_ key: ActivityKey, start: Instant) throws -> WindowRecord? {
        try database.withConnection { try SQLiteSchedulingStore.window($0, key, start: start) }
    }

    /// Attempts in progress per activity, across every worker.
    public func runningCounts() throws -> [ActivityKey: Int] {
        var counts: [ActivityKey: Int] = [:]
        for row in try database.query(
            "SELECT pipeline, activity, count(*) AS n FROM windows WHERE state = 'InProgress' GROUP BY pipeline, activity") {
            guard let p = row.string("pipeline"), let a = row.string("activity") else { continue }
            counts[ActivityKey(pipeline: p, activity: a)] = row.int("n") ?? 0
        }
        return counts
    }

    /// Windows of a pipeline (for `refit slices`), oldest first, optionally filtered.
    public func windows(pipeline: String, status: WindowStatus? = nil, from: Instant? = nil, to: Instant? = nil) throws -> [WindowRecord] {
        try database.query("""
            SELECT \(WindowRecord.columns) FROM windows
            WHERE pipeline = :pipeline AND (:status IS NULL OR state = :status)
              AND (:from IS NULL OR window_end > :from) AND (:to IS NULL OR window_start < :to)
            ORDER BY window_start, activity
            """, named: ["pipeline": .text(pipeline), "status": SQLiteValue(status?.rawValue),
                         "from": StoreText.text(from), "to": StoreText.text(to)]).compactMap(WindowRecord.init(row:))
    }
}
