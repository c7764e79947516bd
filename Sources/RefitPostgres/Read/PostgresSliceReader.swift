import RefitCore
import RefitStore

/// What `refit slices` reads, from PostgreSQL: the same records as `SQLiteSliceReader`, in the
/// same order (names compared byte by byte, as SQLite does). Read-only.
public struct PostgresSliceReader: SliceReading {
    let database: PostgresDatabase

    public init(_ store: PostgresSchedulingStore) { database = store.database }

    public func windows(pipeline: String, status: WindowStatus?, from: Instant?, to: Instant?) throws -> [WindowRecord] {
        try database.readNow { c in
            try c.query("""
                SELECT \(WindowRecord.columns) FROM windows
                WHERE pipeline = $1 AND ($2::text IS NULL OR state = $2::text)
                  AND ($3::timestamptz IS NULL OR window_end > $3::timestamptz) AND ($4::timestamptz IS NULL OR window_start < $4::timestamptz)
                ORDER BY window_start, activity COLLATE "C"
                """, [.text(pipeline), PostgresValue(status?.rawValue), PostgresValue(from), PostgresValue(to)])
                .compactMap(WindowRecord.init(row:))
        }
    }

    public func slices(datasets: [String], status: WindowStatus?, from: Instant?, to: Instant?) throws -> [SliceRecord] {
        let all = try database.readNow { c in
            var all: [SliceRecord] = []
            for dataset in datasets {
                all += try c.query("""
                    SELECT \(SliceRecord.columns) FROM slices
                    WHERE dataset = $1 AND ($2::text IS NULL OR state = $2::text)
                      AND ($3::timestamptz IS NULL OR slice_end > $3::timestamptz) AND ($4::timestamptz IS NULL OR slice_start < $4::timestamptz)
                    ORDER BY slice_start
                    """, [.text(dataset), PostgresValue(status?.rawValue), PostgresValue(from), PostgresValue(to)])
                    .compactMap(SliceRecord.init(row:))
            }
            return all
        }
        return all.sorted { ($0.slice.start, $0.dataset) < ($1.slice.start, $1.dataset) }
    }

    public func datasets() throws -> [String] {
        try database.readNow { c in
            try c.query("SELECT DISTINCT dataset COLLATE \"C\" AS dataset FROM slices ORDER BY 1").compactMap { $0.string("dataset") }
        }
    }
}
