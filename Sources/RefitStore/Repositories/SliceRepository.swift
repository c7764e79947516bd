import Foundation
import RefitCore

/// Reading external dataset slices for listings (`refit slices`, tests): checks are recorded
/// through `SQLiteSchedulingStore`.
public struct SliceRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    /// Slices of the given datasets, oldest first, optionally filtered.
    public func slices(datasets: [String], status: WindowStatus? = nil, from: Instant? = nil, to: Instant? = nil) throws -> [SliceRecord] {
        var all: [SliceRecord] = []
        for dataset in datasets {
            all += try database.query("""
                SELECT \(SliceRecord.columns) FROM slices
                WHERE dataset = :dataset AND (:status IS NULL OR state = :status)
                  AND (:from IS NULL OR slice_end > :from) AND (:to IS NULL OR slice_start < :to)
                ORDER BY slice_start
                """, named: ["dataset": .text(dataset), "status": SQLiteValue(status?.rawValue),
                             "from": StoreText.text(from), "to": StoreText.text(to)]).compactMap(SliceRecord.init(row:))
        }
        return all.sorted { ($0.slice.start, $0.dataset) < ($1.slice.start, $1.dataset) }
    }
}
