import ArgumentParser
import RefitCore
import RefitRuntime
import RefitStore
import RefitWorker

/// `refit history`: one row per attempt, oldest first unless `--order newest`.
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List attempts (one row per run), oldest first.",
        discussion: """
            Reads the database read-only. An unknown --pipeline or --activity (none of its windows is recorded) is \
            invalid input (exit 1).
            """)

    static let statuses = ["InProgress", "Succeeded", "Failed", "TimedOut", "Canceled", "Skipped"]

    @OptionGroup var database: StoreOption
    @Option(help: "Only this pipeline.") var pipeline: String?
    @Option(help: "Only this activity.") var activity: String?
    @Option(help: ArgumentHelp("Only attempts of windows starting at this time.", valueName: "time"), transform: TimeArgument.parse)
    var window: Instant?
    @Option(help: ArgumentHelp("Only attempts started at or after this time.", valueName: "time"), transform: TimeArgument.parse)
    var since: Instant?
    @Option(help: "Only attempts with this status: \(History.statuses.joined(separator: ", ")).") var status: String?
    @Option(help: "Attempts in start order: oldest or newest first.") var order: Order = .oldest
    @Option(help: ArgumentHelp("At most this many rows (the first in --order).", valueName: "n")) var limit: Int?
    @Option(help: "Output format: table, json or csv.") var format: ListingFormat = .table

    enum Order: String, CaseIterable, ExpressibleByArgument { case oldest, newest }

    func validate() throws {
        if let status, !History.statuses.contains(status) {
            throw ValidationError("--status must be one of \(History.statuses.joined(separator: ", ")); got '\(status)'.")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1; got \(limit).") }
    }

    func run() throws {
        let store = try database.openReader()
        defer { store.close() }
        let repository = store.runHistory
        let runs: [RunRecord]
        do {
            if let pipeline, try !repository.hasWindows(pipeline: pipeline) {
                throw CLIFailure.invalidInput("No pipeline named '\(pipeline)' in \(store.displayName(path: database.path)): none of its windows is recorded.")
            }
            if let activity, try !repository.hasWindows(pipeline: pipeline, activity: activity) {
                throw CLIFailure.invalidInput("No activity named '\(activity)'\(pipeline.map { " in pipeline '\($0)'" } ?? "") "
                                              + "in \(store.displayName(path: database.path)): none of its windows is recorded.")
            }
            runs = try repository.history(RunQuery(
                filter: RunFilter(pipeline: pipeline, activity: activity, since: since, status: status),
                windowStart: window, order: order == .newest ? .newest : .oldest, limit: limit))
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        ListingRow.print(runs.map(History.row), format: format, header: History.header,
                         table: ["startedAt", "pipeline", "activity", "windowStart", "attempt", "trigger", "status", "substatus",
                                 "error", "runId"])
    }

    static let header = ["runId", "pipeline", "activity", "windowStart", "windowEnd", "attempt", "trigger", "status", "substatus",
                         "startedAt", "endedAt", "error", "errorClass", "externalJobId", "workerId", "definitionSha256",
                         "leaseExpiresAt", "ownerGone"]

    static func row(_ run: RunRecord) -> ListingRow {
        ListingRow(fields: [
            ("runId", .string(run.runID)), ("pipeline", .string(run.pipeline)), ("activity", .string(run.activity)),
            ("windowStart", .string(run.window.start.iso8601)), ("windowEnd", .string(run.window.end.iso8601)),
            ("attempt", .int(Int64(run.attempt))), ("trigger", .string(run.trigger)), ("status", .string(run.status)),
            ("substatus", .orNull(run.substatus)), ("startedAt", .string(run.startedAt.iso8601)),
            ("endedAt", .orNull(run.endedAt?.iso8601)), ("error", .orNull(run.errorMessage)),
            ("errorClass", .orNull(run.errorClass)), ("externalJobId", .orNull(run.externalJobID)),
            ("workerId", .string(run.workerID)), ("definitionSha256", .string(run.definitionSHA256)),
            ("leaseExpiresAt", .orNull(run.leaseExpiresAt?.iso8601)),
            ("ownerGone", run.status == "InProgress" ? .bool(WorkerIdentity(parsing: run.workerID)?.isKnownDead() ?? false) : .null),
        ])
    }
}
