import ArgumentParser
import RefitCore
import RefitRuntime
import RefitStore

/// `refit audit [list]`: the events in chain order, with each one's hash.
struct AuditList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List audit events (oldest first) with their hashes.",
        discussion: "`detail` is the event's JSON document as stored (and hashed), as a string. An unknown --pipeline is invalid input (exit 1).")

    @OptionGroup var database: StoreOption
    @Option(help: ArgumentHelp("Only events at or after this time.", valueName: "time"), transform: TimeArgument.parse)
    var since: Instant?
    @Option(help: "Only events naming this pipeline.") var pipeline: String?
    @Option(help: "Output format: table, json or csv.") var format: ListingFormat = .table

    static let header = ["id", "at", "kind", "pipeline", "activity", "windowStart", "runId", "detail", "hash"]

    func run() throws {
        let store = try database.openReader()
        defer { store.close() }
        let events: [AuditEvent]
        do {
            if let pipeline, try !store.runHistory.hasWindows(pipeline: pipeline) {
                throw CLIFailure.invalidInput("No pipeline named '\(pipeline)' in \(store.displayName(path: database.path)): none of its windows is recorded.")
            }
            events = try store.auditLog.events(since: since, pipeline: pipeline)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        ListingRow.print(events.map(Self.row), format: format, header: Self.header, table: Self.header)
    }

    /// One event with the keys every command uses for it (`refit show` lists a run's events so too).
    static func row(_ event: AuditEvent) -> ListingRow {
        ListingRow(fields: [
            ("id", .int(event.id)), ("at", .string(event.at)), ("kind", .string(event.kind)),
            ("pipeline", .orNull(event.pipeline)), ("activity", .orNull(event.activity)),
            ("windowStart", .orNull(event.windowStart)), ("runId", .orNull(event.runID)),
            ("detail", .string(event.detail)), ("hash", .string(event.hash)),
        ])
    }
}
