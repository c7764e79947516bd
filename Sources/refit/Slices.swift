import ArgumentParser
import RefitCore
import RefitDefinitions
import RefitStore

/// `refit slices`: a pipeline's activity windows (one per output slice) and the external input
/// slices they wait for, with ADF states and substates.
struct Slices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a pipeline's activity windows and external input slices with their states.")

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @Option(help: "The pipeline.") var pipeline: String
    @Option(help: "Only this state: Waiting, InProgress, Ready, Failed or Skipped.") var status: String?
    @Option(help: ArgumentHelp("Only slices ending after this time.", valueName: "time"), transform: Plan.parseTime) var from: Instant?
    @Option(help: ArgumentHelp("Only slices starting before this time.", valueName: "time"), transform: Plan.parseTime) var to: Instant?
    @Option(help: "Output format: table, json or csv.") var format: ListingFormat = .table

    func validate() throws {
        if let status, WindowStatus(rawValue: status) == nil {
            throw ValidationError("--status must be one of \(WindowStatus.allCases.map(\.rawValue).joined(separator: ", ")); got '\(status)'.")
        }
        if let from, let to, to <= from { throw ValidationError("--to (\(to)) must be after --from (\(from)).") }
    }

    func run() throws {
        let factory = try definitions.loadFactory()
        guard let definition = factory.pipelines[pipeline] else {
            throw CLIFailure.invalidInput("No pipeline named '\(pipeline)' in \(definitions.schedules).")
        }
        let store = try database.openExisting()
        let state = status.flatMap(WindowStatus.init(rawValue:))
        var rows: [(Instant, Int, ListingRow)] = []
        do {
            for window in try WindowRepository(store).windows(pipeline: pipeline, status: state, from: from, to: to) {
                let dataset = definition.activity(named: window.key.activity)?.outputs.first
                rows.append((window.window.start, 1, ListingRow(fields: [
                    ("kind", .string("window")), ("pipeline", .string(pipeline)), ("activity", .string(window.key.activity)),
                    ("dataset", .orNull(dataset)), ("sliceStart", .string(window.window.start.iso8601)),
                    ("sliceEnd", .string(window.window.end.iso8601)), ("status", .string(window.status.rawValue)),
                    ("substatus", .orNull(window.substate?.rawValue)), ("attempts", .int(Int64(window.attempts))),
                    ("nextAt", .orNull(window.status == .waiting ? window.nextAttemptAt?.iso8601 : nil)), ("message", .null),
                ])))
            }
            let external = Set(definition.activities.flatMap(\.inputs).map(\.name)).filter { factory.datasets[$0]?.external == true }
            for slice in try SliceRepository(store).slices(datasets: external.sorted(), status: state, from: from, to: to) {
                rows.append((slice.slice.start, 0, ListingRow(fields: [
                    ("kind", .string("external")), ("pipeline", .string(pipeline)), ("activity", .null),
                    ("dataset", .string(slice.dataset)), ("sliceStart", .string(slice.slice.start.iso8601)),
                    ("sliceEnd", .string(slice.slice.end.iso8601)), ("status", .string(slice.status.rawValue)),
                    ("substatus", .orNull(slice.substate?.rawValue)), ("attempts", .int(Int64(slice.checkCount))),
                    ("nextAt", .orNull(slice.status == .waiting ? slice.nextCheckAt?.iso8601 : nil)),
                    ("message", .orNull(slice.message)),
                ])))
            }
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        let sorted = rows.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
        ListingRow.print(sorted, format: format,
                         header: ["kind", "pipeline", "activity", "dataset", "sliceStart", "sliceEnd", "status", "substatus",
                                  "attempts", "nextAt", "message"],
                         table: ["kind", "activity", "dataset", "sliceStart", "sliceEnd", "status", "substatus", "attempts", "nextAt", "message"])
    }
}
