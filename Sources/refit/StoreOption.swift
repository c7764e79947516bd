import ArgumentParser
import Foundation
import RefitStore

/// `--db FILE`, shared by every command that reads or writes run history. Default:
/// `$REFIT_DB`, else `./refit.sqlite`.
struct StoreOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The SQLite database (default: $REFIT_DB, else ./refit.sqlite).", valueName: "file"))
    var db: String?

    var path: String { db ?? ProcessInfo.processInfo.environment["REFIT_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./refit.sqlite" }

    /// Opens (and migrates) the database; an unusable one is an internal failure (exit 3).
    func open() throws -> Store {
        do {
            return try Store.open(path: path)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
    }

    /// Opens (and migrates) an existing database for an operator's change; a missing file is
    /// invalid input (exit 1), so a typo in --db never creates an empty database.
    func openExisting() throws -> Store {
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
