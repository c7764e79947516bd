import Foundation

/// Brings a database up to the migrations it is given: each pending migration in its own
/// transaction, recorded in `schema_migrations` and mirrored in `PRAGMA user_version`.
/// Refuses a database that is newer than the migrations, or whose applied migrations differ.
struct Migrator {
    let migrations: [Migration]

    init(migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (index, migration) in sorted.enumerated() where migration.version != index + 1 {
            throw StoreError(.migrationFailed,
                             "Migration \(migration.fileName) breaks the sequence: versions must run 1, 2, 3 ... without gaps or duplicates.")
        }
        self.migrations = sorted
    }

    var latestVersion: Int { migrations.last?.version ?? 0 }

    static let createTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            sha256     TEXT NOT NULL,
            applied_at TEXT NOT NULL
        ) STRICT
        """

    /// Applies every pending migration. `displayName` names the database in messages.
    func migrate(_ database: SQLiteDatabase, displayName: String, now: () -> Date) throws {
        let found = try database.transaction { connection in
            if try !tableExists("schema_migrations", connection) {
                let others = try connection.query(
                    "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                if let count = others.first?.int("n"), count > 0 {
                    let userVersion = try Self.userVersion(connection)
                    if userVersion > latestVersion {
                        throw newerError(displayName, found: userVersion)
                    }
                    throw StoreError(.cannotOpen,
                                     "'\(displayName)' is a SQLite database but not a Refit one (it has no schema_migrations table); use another --db.")
                }
                try connection.execute(Self.createTable)
            }
            return try check(connection, displayName: displayName)
        }
        // An up-to-date database (every open but the first after an upgrade) is done: one
        // transaction checked it, instead of one more per migration.
        for migration in migrations where migration.version > found {
            try database.transaction { connection in
                // Another process may have applied it since we looked; re-check under the write lock.
                let current = try check(connection, displayName: displayName)
                guard migration.version > current else { return }
                do {
                    try connection.executeScript(migration.sql)
                } catch let error as StoreError {
                    throw StoreError(.migrationFailed,
                                     "Migration \(migration.fileName) failed on '\(displayName)', which stays at schema version \(current): \(error.message)",
                                     sqliteCode: error.sqliteCode)
                }
                try connection.execute(
                    "INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)",
                    [.integer(Int64(migration.version)), .text(migration.name), .text(migration.sha256),
                     .text(StoreTimestamp.string(from: now()))])
                try connection.execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }

    /// Verifies the recorded migrations against ours; returns the database's current version.
    private func check(_ connection: SQLiteConnection, displayName: String) throws -> Int {
        let applied = try Self.applied(connection)
        let recordedMax = applied.map(\.version).max() ?? 0
        let found = max(recordedMax, try Self.userVersion(connection))
        if found > latestVersion {
            throw newerError(displayName, found: found)
        }
        for record in applied {
            guard record.version >= 1, record.version <= migrations.count else {
                throw StoreError(.migrationFailed,
                                 "'\(displayName)' records schema version \(record.version), which this Refit does not have; use another --db.")
            }
            let ours = migrations[record.version - 1]
            if ours.sha256 != record.sha256 || ours.name != record.name {
                throw StoreError(.migrationFailed,
                                 "Migration \(ours.fileName) differs from the one applied to '\(displayName)' (recorded \(record.name), sha256 \(record.sha256.prefix(12))…; this Refit has sha256 \(ours.sha256.prefix(12))…); landed migrations must never be edited, so add a new migration instead.")
            }
        }
        let versions = applied.map(\.version)
        if versions != Array(1..<(versions.count + 1)) {
            throw StoreError(.migrationFailed,
                             "'\(displayName)' has a gap in its applied migrations (\(versions.map(String.init).joined(separator: ", "))); it cannot be upgraded safely.")
        }
        return recordedMax
    }

    private func newerError(_ displayName: String, found: Int) -> StoreError {
        StoreError(.newerSchema,
                   "\(displayName) was written by a newer Refit (schema version \(found); this Refit knows up to \(latestVersion)); upgrade Refit or use another --db.")
    }

    private func tableExists(_ name: String, _ connection: SQLiteConnection) throws -> Bool {
        try !connection.query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", [.text(name)]).isEmpty
    }

    static func userVersion(_ connection: SQLiteConnection) throws -> Int {
        try connection.query("PRAGMA user_version").first?[0]?.intValue ?? 0
    }

    static func applied(_ connection: SQLiteConnection) throws -> [AppliedMigration] {
        let exists = try !connection.query(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").isEmpty
        guard exists else { return [] }
        return try connection.query("SELECT version, name, sha256, applied_at FROM schema_migrations ORDER BY version")
            .map { row in
                AppliedMigration(version: row.int("version") ?? 0, name: row.string("name") ?? "",
                                 sha256: row.string("sha256") ?? "", appliedAt: row.string("applied_at") ?? "")
            }
    }
}
