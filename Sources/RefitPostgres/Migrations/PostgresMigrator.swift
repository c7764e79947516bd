import Foundation
import RefitCore
import RefitStore

/// Brings a PostgreSQL database up to the migrations of `migrations/postgres/` — the same
/// versions as the SQLite ones — with the same rules as the SQLite migrator: each pending
/// migration in its own transaction, recorded with its sha256 in `schema_migrations`; a database
/// whose applied migrations differ from ours, or that is newer than this binary, is refused.
/// Every step holds a transaction-scoped advisory lock, so hosts starting together migrate once.
struct PostgresMigrator {
    let migrations: [Migration]

    init(migrations: [Migration] = PostgresMigrator.all) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (index, migration) in sorted.enumerated() where migration.version != index + 1 {
            throw StoreError(.migrationFailed,
                             "Migration postgres/\(migration.fileName) breaks the sequence: versions must run 1, 2, 3 ... without gaps or duplicates.")
        }
        self.migrations = sorted
    }

    var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The advisory lock every migration step takes (any constant unique to Refit).
    static let lockKey = "refit:migrations"

    func migrate(_ database: PostgresDatabase, now: @escaping @Sendable () -> Date = Date.init) throws {
        let name = database.displayName
        let found = try database.writeNow { c in
            try c.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text(Self.lockKey)])
            if try c.query("SELECT to_regclass('schema_migrations') AS t").first?.string("t") == nil {
                let others = try c.query("""
                    SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema()
                    """).first?.int("n") ?? 0
                if others > 0 {
                    throw StoreError(.cannotOpen,
                                     "\(name) is a PostgreSQL database but not a Refit one (it has tables but no schema_migrations table); use another --db.")
                }
                try c.execute("""
                    CREATE TABLE schema_migrations (
                        version    integer PRIMARY KEY,
                        name       text NOT NULL,
                        sha256     text NOT NULL,
                        applied_at timestamptz NOT NULL
                    )
                    """)
            }
            return try check(c, displayName: name)
        }
        // An up-to-date database (every open but the first after an upgrade) is done: one
        // transaction checked it, instead of one more per migration.
        for migration in migrations where migration.version > found {
            try database.writeNow { c in
                try c.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text(Self.lockKey)])
                let current = try check(c, displayName: name)
                guard migration.version > current else { return }
                do {
                    try c.executeScript(migration.sql)
                } catch let error as StoreError {
                    throw StoreError(.migrationFailed,
                                     "Migration postgres/\(migration.fileName) failed on \(name), which stays at schema version \(current): \(error.message)")
                }
                try c.execute("INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES ($1, $2, $3, $4)",
                              [.integer(Int64(migration.version)), .text(migration.name), .text(migration.sha256),
                               .timestamp(WallInstant(now()).instant)])
            }
        }
    }

    /// Verifies the recorded migrations against ours; returns the database's current version.
    func check(_ c: PostgresConnection, displayName: String) throws -> Int {
        let applied = try Self.applied(c)
        let found = applied.map(\.version).max() ?? 0
        if found > latestVersion {
            throw StoreError(.newerSchema,
                             "\(displayName) was written by a newer Refit (schema version \(found); this Refit knows up to \(latestVersion)); upgrade Refit or use another --db.")
        }
        for record in applied {
            guard record.version >= 1, record.version <= migrations.count else {
                throw StoreError(.migrationFailed,
                                 "\(displayName) records schema version \(record.version), which this Refit does not have; use another --db.")
            }
            let ours = migrations[record.version - 1]
            if ours.sha256 != record.sha256 || ours.name != record.name {
                throw StoreError(.migrationFailed,
                                 "Migration postgres/\(ours.fileName) differs from the one applied to \(displayName) (recorded \(record.name), sha256 \(record.sha256.prefix(12))…; this Refit has sha256 \(ours.sha256.prefix(12))…); landed migrations must never be edited, so add a new migration instead.")
            }
        }
        let versions = applied.map(\.version)
        if versions != Array(1..<(versions.count + 1)) {
            throw StoreError(.migrationFailed,
                             "\(displayName) has a gap in its applied migrations (\(versions.map(String.init).joined(separator: ", "))); it cannot be upgraded safely.")
        }
        return found
    }

    static func applied(_ c: PostgresConnection) throws -> [AppliedMigration] {
        guard try c.query("SELECT to_regclass('schema_migrations') AS t").first?.string("t") != nil else { return [] }
        return try c.query("SELECT version, name, sha256, applied_at FROM schema_migrations ORDER BY version").map { row in
            AppliedMigration(version: row.int("version") ?? 0, name: row.string("name") ?? "", sha256: row.string("sha256") ?? "",
                             appliedAt: row.instant("applied_at")?.iso8601 ?? "")
        }
    }
}
