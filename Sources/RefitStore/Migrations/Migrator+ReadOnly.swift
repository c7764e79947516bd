import Foundation

extension Migrator {
    /// Checks, without writing, that the database is at exactly these migrations: what a
    /// read-only open needs, since it cannot migrate. Each mismatch is one sentence that says
    /// what to do.
    func requireCurrent(_ database: SQLiteDatabase, displayName: String) throws {
        try database.withConnection { connection in
            let applied = try Self.applied(connection)
            let found = max(applied.map(\.version).max() ?? 0, try Self.userVersion(connection))
            if found > latestVersion {
                throw StoreError(.newerSchema,
                                 "\(displayName) was written by a newer Refit (schema version \(found); this Refit reads version \(latestVersion)); upgrade Refit or use another --db.")
            }
            if applied.isEmpty {
                throw StoreError(.cannotOpen,
                                 "'\(displayName)' is not a Refit database (it has no schema_migrations table); use another --db.")
            }
            for record in applied {
                let ours = migrations.indices.contains(record.version - 1) ? migrations[record.version - 1] : nil
                guard let ours, ours.sha256 == record.sha256, ours.name == record.name else {
                    throw StoreError(.migrationFailed,
                                     "Migration \(record.version) (\(record.name)) of '\(displayName)' differs from this Refit's; it cannot be read safely.")
                }
            }
            if found < latestVersion {
                throw StoreError(.migrationFailed,
                                 "\(displayName) is at schema version \(found) and this Refit reads version \(latestVersion); run `refit tick` once with this Refit to upgrade it, or read it with the Refit that wrote it.")
            }
        }
    }
}
