import RefitStore

extension PostgresMigrator {
    /// Checks, without writing, that the database is at exactly these migrations: what the read
    /// commands need, since they never migrate. Each mismatch is one sentence that says what to do.
    func requireCurrent(_ database: PostgresDatabase) throws {
        let name = database.displayName
        try database.readNow { c in
            let applied = try Self.applied(c)
            if applied.isEmpty {
                throw StoreError(.cannotOpen, "\(name) is not a Refit database (it has no schema_migrations table); use another --db.")
            }
            let found = try check(c, displayName: name)
            if found < latestVersion {
                throw StoreError(.migrationFailed,
                                 "\(name) is at schema version \(found) and this Refit reads version \(latestVersion); run `refit tick` once with this Refit to upgrade it, or read it with the Refit that wrote it.")
            }
        }
    }
}
