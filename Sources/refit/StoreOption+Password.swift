import ArgumentParser
import Foundation
import RefitCore
import RefitDefinitions

/// `--db-password` (or `$REFIT_DB_PASSWORD`): where the PostgreSQL password comes from when it is
/// not in `PGPASSWORD` or `~/.pgpass` (which libpq reads itself). Only a secret reference is
/// taken — `{"file": "/path"}` (relative paths against the working folder) or `{"env": "NAME"}`
/// — resolved by the definitions' own secret code; the password itself is refused, since on a
/// command line it stays in shell history and shows in `ps`. The value reaches libpq as a
/// connection parameter of its own, never inside the URL, so no message can print it.
extension StoreOption {
    /// The password the reference resolves to; nil when none is given. Bad input is one
    /// sentence, exit 1: a literal, a malformed reference, an unreadable file or unset variable.
    func postgresPassword() throws -> String? {
        let fromEnvironment = ProcessInfo.processInfo.environment["REFIT_DB_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = dbPassword ?? fromEnvironment else { return nil }
        let option = dbPassword != nil ? "--db-password" : "REFIT_DB_PASSWORD"
        let secret: Secret
        do {
            secret = try SecretReference.parse(text, option: option)
        } catch {
            throw CLIFailure.invalidInput(error.message)
        }
        do {
            return try SecretResolver(baseDirectory: FileManager.default.currentDirectoryPath).resolve(secret)
        } catch {
            throw CLIFailure.invalidInput("The database password of \(option) could not be read: \(error).")
        }
    }

    /// `--db-password` is for a PostgreSQL `--db` (`$REFIT_DB_PASSWORD` is ignored for SQLite):
    /// a usage error otherwise (exit 2, one sentence).
    func validate() throws {
        if dbPassword != nil && !isPostgres {
            throw ValidationError("--db-password applies to a PostgreSQL --db (postgres://…) only.")
        }
    }
}
