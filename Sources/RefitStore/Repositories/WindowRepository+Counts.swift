import RefitCore

extension WindowRepository {
    /// How many windows are in `status`, over `pipelines` (every pipeline when nil): for the
    /// summary `refit tick` prints.
    public func count(status: WindowStatus, pipelines: [String]? = nil) throws -> Int {
        if let pipelines, pipelines.isEmpty { return 0 }
        let names = pipelines ?? []
        let condition = pipelines == nil ? "" : " AND pipeline IN (\(SQLiteSchedulingStore.marks(names.count)))"
        return try database.query("SELECT count(*) AS n FROM windows WHERE state = ?\(condition)",
                                  [.text(status.rawValue)] + names.map { .text($0) }).first?.int("n") ?? 0
    }
}
