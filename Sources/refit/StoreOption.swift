import ArgumentParser
import Foundation
import RefitPostgres
import RefitRuntime
import RefitStore

/// `--db FILE`, shared by every command that reads or writes run history. Default:
/// `$REFIT_DB`, else `./refit.sqlite`. `refit run` and `refit tick` also take a PostgreSQL URL
/// (`postgres://…`, shared by workers on several hosts), as do `pause`, `resume`, `rerun`,
/// `skip`, `cancel`, `backfill` and the read commands `status`, `history`, `show`, `audit`,
/// `slices`, `lineage`, `backfills` and `rollback`; `report` and `metrics` read SQLite only.
struct StoreOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The SQLite database, or a postgres:// URL for every command but report and metrics (default: $REFIT_DB, else ./refit.sqlite).",
                                            valueName: "file"))
    var db: String?

    var path: String { db ?? ProcessInfo.processInfo.environment["REFIT_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./refit.sqlite" }

    /// Whether `--db` names a PostgreSQL server rather than a SQLite file.
    var isPostgres: Bool { path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") }

    /// Opens the database `refit run` and `refit tick` work on: a SQLite file, or a PostgreSQL
    /// server (connected and migrated). An unusable one is an internal failure (exit 3).
    func openWorker() throws -> WorkerDatabase {
        guard isPostgres else { return .sqlite(try open()) }
        do {
            return .postgres(try PostgresSchedulingStore.open(url: path))
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
    }

    /// Opens the database for an operator's change through `OperatorStore`: an existing SQLite
    /// file (a missing one is invalid input, exit 1), or a PostgreSQL server.
    func openOperator() throws -> WorkerDatabase {
        isPostgres ? try openWorker() : .sqlite(try openExisting())
    }

    /// Opens the database for a command that only reads: an existing SQLite file read-only
    /// (see `openReadOnly`), or a PostgreSQL server at this Refit's schema version (never
    /// migrated; the readers only read). `migrating` opens SQLite with `openExisting` instead,
    /// for the commands that did so. An unusable database is an internal failure (exit 3).
    func openReader(migrating: Bool = false) throws -> WorkerDatabase {
        if isPostgres {
            do {
                return .postgres(try PostgresSchedulingStore.openForReading(url: path))
            } catch let error as StoreError {
                throw CLIFailure.internal(error.message)
            }
        }
        return .sqlite(migrating ? try openExisting() : try openReadOnly())
    }

    /// This command reads and writes SQLite only: a PostgreSQL URL is invalid input (exit 1).
    private func refusePostgres() throws {
        guard isPostgres else { return }
        throw CLIFailure.invalidInput("This command works on a SQLite --db only so far; the commands other than `report` and `metrics` also work on a PostgreSQL database.")
    }

    /// Opens (and migrates) the database; an unusable one is an internal failure (exit 3).
    func open() throws -> Store {
        try refusePostgres()
        do {
            return try Store.open(path: path)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
    }

    /// Opens (and migrates) an existing database for an operator's change; a missing file is
    /// invalid input (exit 1), so a typo in --db never creates an empty database.
    func openExisting() throws -> Store {
        try refusePostgres()
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIFailure.invalidInput("The database '\(path)' does not exist; run `refit tick` or `refit run` first, or give --db.")
        }
        return try open()
    }

    /// Opens an existing database read-only (never created, migrated or written; a read-only
    /// file in a read-only folder will do) for the commands that only read. A missing file is
    /// invalid input (exit 1); a database of another schema version, or not a Refit database,
    /// is unusable (exit 3), with one sentence saying what to do.
    func openReadOnly() throws -> Store {
        try refusePostgres()
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIFailure.invalidInput("The database '\(path)' does not exist; run `refit tick` or `refit run` first, or give --db.")
        }
        do {
            return try Store.openReadOnly(path: path)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
    }
}
