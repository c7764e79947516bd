import RefitCore

/// What `refit slices` reads, on any store: activity windows and external dataset slices, as
/// the same records from SQLite (`SQLiteSliceReader`) or PostgreSQL. Read-only.
public protocol SliceReading: Sendable {
    /// Windows of a pipeline, oldest first (ties by activity), optionally filtered.
    func windows(pipeline: String, status: WindowStatus?, from: Instant?, to: Instant?) throws -> [WindowRecord]
    /// Slices of the given datasets, oldest first (ties by dataset), optionally filtered.
    func slices(datasets: [String], status: WindowStatus?, from: Instant?, to: Instant?) throws -> [SliceRecord]
    /// Every dataset with external slices recorded, by name.
    func datasets() throws -> [String]
}

extension SliceReading {
    public func windows(pipeline: String) throws -> [WindowRecord] { try windows(pipeline: pipeline, status: nil, from: nil, to: nil) }
    public func slices(datasets: [String]) throws -> [SliceRecord] { try slices(datasets: datasets, status: nil, from: nil, to: nil) }
}

/// `SliceReading` on SQLite: `WindowRepository` and `SliceRepository` together.
public struct SQLiteSliceReader: SliceReading {
    let store: Store

    public init(_ store: Store) { self.store = store }

    public func windows(pipeline: String, status: WindowStatus?, from: Instant?, to: Instant?) throws -> [WindowRecord] {
        try WindowRepository(store).windows(pipeline: pipeline, status: status, from: from, to: to)
    }

    public func slices(datasets: [String], status: WindowStatus?, from: Instant?, to: Instant?) throws -> [SliceRecord] {
        try SliceRepository(store).slices(datasets: datasets, status: status, from: from, to: to)
    }

    public func datasets() throws -> [String] { try SliceRepository(store).datasets() }
}
