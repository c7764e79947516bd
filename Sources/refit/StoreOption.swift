import ArgumentParser
import Foundation
import RefitCore
import RefitPostgres
import RefitRuntime
import RefitStore

/// `--db FILE`, shared by every command that reads or writes run history. Default:
/// `$REFIT_DB`, else `./refit.sqlite`. Every command also takes a PostgreSQL URL
/// (`postgres://…`, shared by workers on several hosts): `run` and `tick` through
/// `openWorker`, the operator commands through `openOperator`, and the read commands
/// (`status`, `history`, `show`, `audit`, `slices`, `lineage`, `backfills`, `report`,
/// `metrics`) through `openReader`. The SQLite openers below those are private, so no command
/// can open a URL as a file by mistake.
struct StoreOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The SQLite database, or a postgres:// URL (default: $REFIT_DB, else ./refit.sqlite).",
                                            valueName: "file"))
    var db: String?

    var path: String { db ?? ProcessInfo.processInfo.environment["REFIT_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./refit.sqlite" }

    /// Whether `--db` names a PostgreSQL server rather than a SQLite file.
    var isPostgres: Bool { path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") }

    @Option(name: .customLong("db-password"),
            help: ArgumentHelp("The PostgreSQL password as {\"file\": \"/path\"} or {\"env\": \"NAME\"}, never the password itself (default: $REFIT_DB_PASSWORD; PGPASSWORD and ~/.pgpass work too).",
                               valueName: "secret"))
    var dbPassword: String?

    /// The definitions of `schedules` and the database `refit run` and `refit tick` work on
    /// (`openWorker`). An existing SQLite file is opened (and migrated, as any worker would) on a
    /// second thread while the definitions are read, the two largest steps of a worker's start;
    /// any other database is opened after them, so that invalid definitions never create a file
    /// or reach a server. Invalid definitions are reported first (exit 1), as if the database had
    /// not been opened.
    func openWorker(loading schedules: SchedulesOption, logFormat: LogFormat) async throws -> (Factory, WorkerDatabase) {
        guard !isPostgres, access(path, F_OK) == 0 else {
            let factory = try schedules.loadFactory(logFormat: logFormat)
            return (factory, try openWorker())
        }
        async let opening = Result { try openWorker() }
        let factory: Factory
        do {
            factory = try schedules.loadFactory(logFormat: logFormat)
        } catch {
            if case .success(let database) = await opening { database.close() }
            throw error
        }
        return (factory, try await opening.get())
    }

    /// Opens the database `refit run` and `refit tick` work on: a SQLite file, or a PostgreSQL
    /// server (connected and migrated). An unusable one is an internal failure (exit 3).
    func openWorker() throws -> WorkerDatabase {
        guard isPostgres else { return .sqlite(try open()) }
        do {
            return .postgres(try PostgresSchedulingStore.open(url: path, password: try postgresPassword()))
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
                return .postgres(try PostgresSchedulingStore.openForReading(url: path, password: try postgresPassword()))
            } catch let error as StoreError {
                throw CLIFailure.internal(error.message)
            }
        }
        return .sqlite(migrating ? try openExisting() : try openReadOnly())
    }

    /// Opens (and migrates) the SQLite file; an unusable one is an internal failure (exit 3).
    private func open() throws -> Store {
        do {
            return try Store.open(path: path)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
    }

    /// Opens (and migrates) an existing SQLite file for an operator's change; a missing file is
    /// invalid input (exit 1), so a typo in --db never creates an empty database.
    private func openExisting() throws -> Store {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIFailure.invalidInput("The database '\(path)' does not exist; run `refit tick` or `refit run` first, or give --db.")
        }
        return try open()
    }

    /// Opens an existing SQLite file read-only (never created, migrated or written; a read-only
    /// file in a read-only folder will do) for the commands that only read. A missing file is
    /// invalid input (exit 1); a database of another schema version, or not a Refit database,
    /// is unusable (exit 3), with one sentence saying what to do.
    private func openReadOnly() throws -> Store {
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
