import ArgumentParser
import Foundation
import RefitPostgres
import RefitStore

/// `refit db`: whole databases. `refit db copy` moves a history between stores.
struct DbCopy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Work on whole databases: copy a history between SQLite and PostgreSQL.",
        subcommands: [Copy.self])

    /// `refit db copy --from A --to B`: every table of the source, ids, times and the audit chain
    /// verbatim, merged into the target in one transaction. A row the target already holds
    /// identically is skipped, so a second copy changes nothing; a target holding a different
    /// row is refused (exit 1) and left as it was.
    struct Copy: ParsableCommand {
        // Named here, not derived from the type's name: deriving it costs every command's
        // start-up a few runtime conformance scans (about a millisecond).
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Copy a whole history from one database to another (SQLite files and postgres:// URLs).",
            discussion: """
                Both databases are brought to this Refit's schema version first (a database from a newer Refit \
                is refused, exit 3). Rows are copied with their ids in one transaction on the target; rows already \
                there and identical are skipped, and a target holding different history is refused with nothing \
                changed (exit 1). The target's audit chain is verified before the copy commits. Prints one line \
                per table and the target's tail hash.
                """)

        @Option(help: ArgumentHelp("The database to copy from: a SQLite file or a postgres:// URL.", valueName: "file-or-url"))
        var from: String
        @Option(help: ArgumentHelp("The database to copy into (created when it is a missing SQLite file).", valueName: "file-or-url"))
        var to: String

        func run() throws {
            let source = try Endpoint(from), target = try Endpoint(to)
            if case .sqlite(let a) = source, case .sqlite(let b) = target, a == b {
                throw CLIFailure.invalidInput("--from and --to name the same database '\(from)'; give two different ones.")
            }
            if case .sqlite(let path) = source, !FileManager.default.fileExists(atPath: path) {
                throw CLIFailure.invalidInput("The database '\(path)' does not exist; give an existing SQLite file or a postgres:// URL as --from.")
            }
            do {
                // Connect to both before changing either, so a typo never creates or migrates anything.
                let sourceServer = try source.connect(), targetServer = try target.connect()
                if let sourceServer, let targetServer, sourceServer.displayName == targetServer.displayName {
                    throw CLIFailure.invalidInput("--from and --to name the same database \(sourceServer.displayName); give two different ones.")
                }
                let history: [CopyRows]
                let sourceName: String
                switch source {
                case .sqlite(let path):
                    let store = try Self.opening("--from") { try Store.open(path: path) }
                    defer { store.close() }
                    history = try store.readHistory()
                    sourceName = path
                case .postgres:
                    guard let server = sourceServer else { return }
                    switch try PostgresHistoryCopy.schemaVersion(server) {
                    case nil:
                        throw CLIFailure.internal("\(server.displayName) is a PostgreSQL database but not a Refit one (it has tables but no schema_migrations table); use another --from.")
                    case 0:
                        throw CLIFailure.invalidInput("\(server.displayName) holds no Refit history yet; give the database to copy from as --from.")
                    default:
                        try Self.opening("--from") { try PostgresHistoryCopy.migrate(server) }
                    }
                    history = try PostgresHistoryCopy.readHistory(server)
                    sourceName = server.displayName
                }
                let summary: CopySummary
                let targetName: String
                switch target {
                case .sqlite(let path):
                    let store = try Self.opening("--to") { try Store.open(path: path) }
                    defer { store.close() }
                    summary = try store.copyIn(history)
                    targetName = path
                case .postgres:
                    guard let server = targetServer else { return }
                    try Self.opening("--to") { try PostgresHistoryCopy.migrate(server) }
                    summary = try PostgresHistoryCopy.copyIn(history, to: server)
                    targetName = server.displayName
                }
                report(summary, from: sourceName, to: targetName)
            } catch let refusal as CopyRefusal {
                throw CLIFailure.invalidInput(Self.sentence(refusal, target: target))
            } catch let error as StoreError {
                throw CLIFailure.internal(error.message)
            }
        }

        /// Opens or migrates one side; the store's sentences say `--db`, which here is `option`.
        private static func opening<T>(_ option: String, _ body: () throws -> T) throws -> T {
            do {
                return try body()
            } catch let error as StoreError {
                throw StoreError(error.code, error.message.replacingOccurrences(of: "another --db", with: "another \(option)"))
            }
        }

        private func report(_ summary: CopySummary, from source: String, to target: String) {
            let width = summary.tallies.map(\.table.count).max() ?? 0
            for tally in summary.tallies {
                print("\(tally.table.padding(toLength: width, withPad: " ", startingAt: 0))  \(tally.copied) copied, \(tally.alreadyPresent) already present")
            }
            let rows = summary.copied == 1 ? "1 row" : "\(summary.copied) rows"
            print("Copied \(rows) from \(source) to \(target), whose audit chain verifies: \(summary.events) event\(summary.events == 1 ? "" : "s"), tail hash \(summary.tailHash).")
        }

        private static func sentence(_ refusal: CopyRefusal, target: Endpoint) -> String {
            switch refusal {
            case .differentRow(let table, let key):
                "The target holds different history (its \(table) row \(key) differs from the source's); nothing was copied."
            case .collidingRow(let table, let key):
                "The target holds different history (the source's \(table) row \(key) collides with another row there); nothing was copied."
            case .brokenChain(let id):
                "The target's audit chain would not verify after the copy (from event \(id) on); nothing was copied."
            }
        }
    }

    /// Where a database is: a SQLite file, or a PostgreSQL URL.
    enum Endpoint {
        case sqlite(String)
        case postgres(String)

        init(_ text: String) throws {
            if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
                self = .postgres(text)
            } else if text.isEmpty {
                throw CLIFailure.usage("A database must be a SQLite file or a postgres:// URL; got an empty string.")
            } else {
                self = .sqlite(URL(fileURLWithPath: text).standardizedFileURL.path)
            }
        }

        /// A connection to the server, for a PostgreSQL URL (nothing is written).
        func connect() throws -> PostgresDatabase? {
            guard case .postgres(let url) = self else { return nil }
            return try PostgresDatabase(url: url)
        }
    }
}
