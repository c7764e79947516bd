import ArgumentParser
import RefitCore
import RefitRuntime
import RefitStore

/// `refit backfills`: every backfill, newest first, with its progress (windows done — Ready or
/// Skipped —, failed, running, waiting).
struct Backfills: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backfills", abstract: "List backfills with their progress, newest first.")

    @OptionGroup var database: StoreOption
    @Option(help: "Output format: table, json or csv.") var format: ListingFormat = .table

    static let header = ["id", "pipeline", "activities", "from", "to", "mode", "order", "total", "done", "failed", "running",
                         "waiting", "actor", "reason", "createdAt"]

    func run() throws {
        let store = try database.openReader(migrating: true)
        defer { store.close() }
        let operators = store.operators
        let records = try OperatorInput.perform { try await operators.backfills() }
        ListingRow.print(records.map(Backfills.row), format: format, header: Backfills.header,
                         table: ["id", "pipeline", "from", "to", "mode", "order", "total", "done", "failed", "running", "waiting", "actor"])
    }

    static func row(_ record: BackfillRecord) -> ListingRow {
        let b = record.backfill, p = record.progress
        return ListingRow(fields: [
            ("id", .int(record.id)), ("pipeline", .string(b.pipeline)), ("activities", .string(b.activities.joined(separator: ","))),
            ("from", .string(b.from.iso8601)), ("to", .string(b.to.iso8601)), ("mode", .string(b.mode.rawValue)),
            ("order", .string(b.order.rawValue)), ("total", .int(Int64(p.total))), ("done", .int(Int64(p.done))),
            ("failed", .int(Int64(p.failed))), ("running", .int(Int64(p.running))), ("waiting", .int(Int64(p.waiting))),
            ("actor", .string(b.request.actor)), ("reason", .orNull(b.request.reason)), ("createdAt", .string(record.createdAt.iso8601)),
        ])
    }
}

extension ListingRow {
    /// The row as one JSON object.
    var json: JSONOutput { .object(fields) }
}
