import RefitCore
/// One forward-only schema change, as shipped in `migrations/NNNN_name.sql` and embedded in
/// the binary. Its SHA-256 is recorded when applied, so an edited landed migration is caught.
public struct Migration: Sendable, Hashable {
    /// The NNNN of the file name: applied in increasing order, starting at 1, without gaps.
    public let version: Int
    /// The file name's part after `NNNN_`, without `.sql`.
    public let name: String
    /// The file's exact text.
    public let sql: String

    /// Lowercase hex SHA-256 of the SQL's UTF-8 bytes.
    public let sha256: String

    public init(version: Int, name: String, sql: String) {
        self.init(version: version, name: name, sql: sql, sha256: SHA256.hex(sql))
    }

    /// A migration whose hash is already known: the embedded ones, hashed by
    /// scripts/embed-migrations.sh (a test recomputes them), so that opening a database, which
    /// compares every applied migration's hash with ours, hashes nothing.
    package init(version: Int, name: String, sql: String, sha256: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.sha256 = sha256
    }

    /// The file name the migration came from, e.g. `0001_initial.sql`.
    public var fileName: String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name + ".sql"
    }

    /// The highest schema version this binary knows.
    public static var latestVersion: Int { all.map(\.version).max() ?? 0 }
}

/// A migration as recorded in a database's `schema_migrations` table.
public struct AppliedMigration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sha256: String
    /// ISO 8601 UTC, whole seconds.
    public let appliedAt: String

    package init(version: Int, name: String, sha256: String, appliedAt: String) {
        self.version = version; self.name = name; self.sha256 = sha256; self.appliedAt = appliedAt
    }
}
