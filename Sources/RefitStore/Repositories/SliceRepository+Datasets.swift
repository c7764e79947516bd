extension SliceRepository {
    /// Every dataset with external slices recorded, by name: what `refit slices` lists when no
    /// definitions say which datasets a pipeline reads.
    public func datasets() throws -> [String] {
        try database.query("SELECT DISTINCT dataset FROM slices ORDER BY dataset").compactMap { $0.string("dataset") }
    }
}
