import Foundation

/// Refit's database: opening it applies pending migrations and refuses a database written by
/// a newer Refit, so every other part of Refit can assume the schema it was built with.
/// `Sendable`; share one per process.
public final class Store: Sendable {
    /// The underlying database, for the repositories built on top of the store. SQL stays in
    /// RefitStore: other modules use the store's types (`SQLiteSchedulingStore`, the read
    /// repositories).
    let database: SQLiteDatabase
    /// Journal writes of ending attempts, for the transactions that record their outcomes.
    let handedOverSteps = HandedOverSteps()

    private init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Opens (creating if needed) the database at `path` and brings it to the latest schema.
    /// Throws `.newerSchema` for a database from a newer Refit, `.migrationFailed` when an applied
    /// migration was edited, `.cannotOpen`/`.corrupt` for bad paths and files.
    public static func open(path: String,
                            busyTimeoutMilliseconds: Int = SQLiteDatabase.defaultBusyTimeoutMilliseconds) throws -> Store
    {
        try open(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, migrations: Migration.all)
    }

    /// Opens with an explicit migration list (tests use this to play older and newer binaries).
    static func open(path: String, busyTimeoutMilliseconds: Int = SQLiteDatabase.defaultBusyTimeoutMilliseconds,
                     migrations: [Migration], now: () -> Date = Date.init) throws -> Store
    {
        let migrator = try Migrator(migrations: migrations)
        let database = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try migrator.migrate(database, displayName: path, now: now)
        return Store(database: database)
    }

    /// Opens an existing database for reading only: never creates, migrates or writes it (not
    /// even its journal mode), and works on a read-only file in a read-only folder. Refuses,
    /// with one sentence, a database whose schema is not exactly this binary's (older: upgrade
    /// it by running the worker once; newer: upgrade Refit), so readers never guess at columns.
    public static func openReadOnly(path: String,
                                    busyTimeoutMilliseconds: Int = SQLiteDatabase.defaultBusyTimeoutMilliseconds) throws -> Store
    {
        let migrator = try Migrator(migrations: Migration.all)
        let database = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, readOnly: true)
        try migrator.requireCurrent(database, displayName: path)
        return Store(database: database)
    }

    /// The schema version the database is at (the highest applied migration).
    public var currentVersion: Int {
        get throws {
            try database.withConnection { try Migrator.applied($0).map(\.version).max() ?? 0 }
        }
    }

    /// Every applied migration, in version order.
    public func appliedMigrations() throws -> [AppliedMigration] {
        try database.withConnection { try Migrator.applied($0) }
    }

    /// Appends an audit event in its own transaction. To record an event together with the
    /// state change it describes, call `appendEvent` on the connection inside `transaction`.
    @discardableResult
    public func appendEvent(_ event: NewAuditEvent) throws -> AuditEvent {
        try database.withConnection { try $0.appendEvent(event) }
    }

    /// Closes the database (a command that ends calls it, so the WAL is checkpointed into the
    /// file even while tasks still hold the store).
    public func close() { database.close() }

    /// Appends audit events in one transaction (bulk imports, benchmarks).
    public func appendEvents(_ events: [NewAuditEvent]) throws {
        try database.transaction { c in
            for event in events { try c.appendEvent(event) }
        }
    }

    /// The id of the first audit event that breaks the hash chain, or nil when it is intact.
    public func verifyEventChain() throws -> Int64? {
        try database.withConnection { try $0.verifyEventChain() }
    }
}
