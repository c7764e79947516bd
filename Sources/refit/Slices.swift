import ArgumentParser
import RefitCore
import RefitRuntime
import RefitStore
import RefitWorker

/// `refit slices`: a pipeline's activity windows (one per output slice) and the external input
/// slices they wait for, with ADF states and substates, and for a window waiting on its data,
/// which input slices hold it back (`blockedBy`); for a window that failed or waits to retry,
/// its last attempt's error (`message`). A Ready external slice whose data changed
/// since it became Ready shows substatus `Changed`, when (`changedAt`) and how (`message`).
///
/// It reads the database read-only and works without definitions: windows come from the
/// database alone. Definitions (`--schedules`, or `./schedules` when it holds valid ones) add
/// each window's output dataset, restrict external slices to the pipeline's inputs, and let
/// `blockedBy` be resolved; without them every external slice in the database is listed (the
/// database does not record which pipeline reads a dataset) and `blockedBy` is null.
struct Slices: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slices",
        abstract: "List a pipeline's activity windows and external input slices with their states.",
        discussion: """
            Reads the database read-only; definitions are optional (--schedules, else ./schedules if valid). With them, \
            a window waiting on its data names the input slices that are not Ready (blockedBy). A window that failed or \
            waits to retry shows its last attempt's error (message). An unknown pipeline is invalid input (exit 1).
            """)

    @Option(name: .long, help: ArgumentHelp("The folder of definitions (optional; default ./schedules when it holds valid ones).",
                                            valueName: "dir"))
    var schedules: String?
    @OptionGroup var database: StoreOption
    @Option(help: "The pipeline.") var pipeline: String
    @Option(help: "Only this state: Waiting, InProgress, Ready, Failed or Skipped.") var status: String?
    @Option(help: ArgumentHelp("Only slices ending after this time.", valueName: "time"), transform: TimeArgument.parse) var from: Instant?
    @Option(help: ArgumentHelp("Only slices starting before this time.", valueName: "time"), transform: TimeArgument.parse) var to: Instant?
    @Option(help: "Output format: table, json or csv.") var format: ListingFormat = .table

    static let header = ["kind", "pipeline", "activity", "dataset", "windowStart", "windowEnd", "sliceStart", "sliceEnd", "status",
                         "substatus", "attempts", "nextAt", "message", "blockedBy", "leaseOwner", "leaseExpiresAt", "ownerGone", "changedAt"]

    func validate() throws {
        if let status, WindowStatus(rawValue: status) == nil {
            throw ValidationError("--status must be one of \(WindowStatus.allCases.map(\.rawValue).joined(separator: ", ")); got '\(status)'.")
        }
        if let from, let to, to <= from { throw ValidationError("--to (\(to)) must be after --from (\(from)).") }
    }

    func run() throws {
        let factory = try SchedulesOption.optionalFactory(directory: schedules)
        let store = try database.openReader()
        defer { store.close() }
        let reader = store.slices
        let definition = factory?.pipelines[pipeline]
        let state = status.flatMap(WindowStatus.init(rawValue:))
        var rows: [(Instant, Int, ListingRow)] = []
        do {
            if definition == nil, try !store.runHistory.hasWindows(pipeline: pipeline) {
                let known = factory.map { "; pipelines defined: \($0.pipelines.keys.sorted().joined(separator: ", "))" } ?? ""
                throw CLIFailure.invalidInput("No pipeline named '\(pipeline)' in \(store.displayName(path: database.path))"
                                              + (factory == nil ? "" : " or \(schedules ?? "./schedules")") + known + ".")
            }
            var blockers = factory.map { WindowBlockers(factory: $0, store: reader) }
            let windows = try reader.windows(pipeline: pipeline, status: state, from: from, to: to)
            let lastErrors = try Self.lastErrors(of: windows, pipeline: pipeline, history: store.runHistory)
            for window in windows {
                let dataset = definition?.activity(named: window.key.activity)?.outputs.first
                let blockedBy = try blockers?.blockers(of: window) ?? []
                rows.append((window.window.start, 1, ListingRow(fields: [
                    ("kind", .string("window")), ("pipeline", .string(pipeline)), ("activity", .string(window.key.activity)),
                    ("dataset", .orNull(dataset)),
                    ("windowStart", .string(window.window.start.iso8601)), ("windowEnd", .string(window.window.end.iso8601)),
                    ("sliceStart", .string(window.window.start.iso8601)), ("sliceEnd", .string(window.window.end.iso8601)),
                    ("status", .string(window.status.rawValue)), ("substatus", .orNull(window.substate?.rawValue)),
                    ("attempts", .int(Int64(window.attempts))),
                    ("nextAt", .orNull(window.status == .waiting ? window.nextAttemptAt?.iso8601 : nil)),
                    ("message", .orNull(lastErrors[window.id])),
                    ("blockedBy", blockedBy.isEmpty ? .null : .string(blockedBy.joined(separator: "; "))),
                    ("leaseOwner", .orNull(window.leaseOwner)), ("leaseExpiresAt", .orNull(window.leaseExpiresAt?.iso8601)),
                    ("ownerGone", window.leaseOwner.map { .bool(WorkerIdentity(parsing: $0)?.isKnownDead() ?? false) } ?? .null),
                    ("changedAt", .null),
                ])))
            }
            let external: [String]
            if let definition, let factory {
                external = Set(definition.activities.flatMap(\.inputs).map(\.name)).filter { factory.datasets[$0]?.external == true }.sorted()
            } else {
                external = try reader.datasets()
            }
            for slice in try reader.slices(datasets: external, status: state, from: from, to: to) {
                rows.append((slice.slice.start, 0, ListingRow(fields: [
                    ("kind", .string("external")), ("pipeline", definition == nil ? .null : .string(pipeline)), ("activity", .null),
                    ("dataset", .string(slice.dataset)), ("windowStart", .null), ("windowEnd", .null),
                    ("sliceStart", .string(slice.slice.start.iso8601)), ("sliceEnd", .string(slice.slice.end.iso8601)),
                    // A Ready slice whose data changed since shows substatus Changed (not a stored substate).
                    ("status", .string(slice.status.rawValue)),
                    ("substatus", .orNull(slice.changedAt != nil ? "Changed" : slice.substate?.rawValue)),
                    ("attempts", .int(Int64(slice.checkCount))),
                    ("nextAt", .orNull(slice.status == .waiting ? slice.nextCheckAt?.iso8601 : nil)),
                    ("message", .orNull(slice.message)), ("blockedBy", .null),
                    ("leaseOwner", .null), ("leaseExpiresAt", .null), ("ownerGone", .null),
                    ("changedAt", .orNull(slice.changedAt?.iso8601)),
                ])))
            }
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        let sorted = rows.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
        ListingRow.print(sorted, format: format, header: Self.header,
                         table: ["kind", "activity", "dataset", "sliceStart", "sliceEnd", "status", "substatus", "attempts", "nextAt",
                                 "message", "blockedBy", "leaseOwner"])
    }

    /// The error of the last attempt of each window that failed or waits to retry (what a window's
    /// `message` shows), from the run history; nothing is read when no window needs it.
    static func lastErrors(of windows: [WindowRecord], pipeline: String, history: any RunHistoryReading) throws -> [Int64: String] {
        let wanted = Set(windows.filter { $0.status == .failed || ($0.status == .waiting && $0.attempts > 0) }.map(\.id))
        guard !wanted.isEmpty else { return [:] }
        var errors: [Int64: String] = [:]
        var seen: Set<Int64> = []
        for run in try history.history(RunQuery(filter: RunFilter(pipeline: pipeline), order: .newest))
        where wanted.contains(run.windowID) && seen.insert(run.windowID).inserted {
            if let message = run.errorMessage { errors[run.windowID] = message }
        }
        return errors
    }
}
