import ArgumentParser
import Foundation
import RefitCore

/// `refit plan`: the activity windows of a pipeline in a period, with due times and the input
/// slices each depends on — what the worker would run, without running anything.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "List a pipeline's activity windows, their due times and the input slices they depend on.",
        discussion: """
            Every window that overlaps [--from, --to) and the pipeline's active period is listed, per activity \
            in definition order, oldest first. Without --from/--to the active period is used. Times are ISO 8601 \
            (a date alone means midnight UTC); output is UTC with Z. A request for more than \
            \(Plan.maximumWindows) windows, or an unbounded one, is refused.
            """
    )

    static let maximumWindows = 1_000_000

    @OptionGroup var definitions: SchedulesOption

    @Option(help: "The pipeline to plan.")
    var pipeline: String

    @Option(help: ArgumentHelp("Start of the period (inclusive).", valueName: "time"), transform: Plan.parseTime)
    var from: Instant?

    @Option(help: ArgumentHelp("End of the period (exclusive).", valueName: "time"), transform: Plan.parseTime)
    var to: Instant?

    @Option(help: "Output format: table, json or csv.")
    var format: ListingFormat = .table

    static func parseTime(_ text: String) throws -> Instant { try TimeArgument.parse(text) }

    func validate() throws {
        if let from, let to, to <= from {
            throw ValidationError("--to (\(to)) must be after --from (\(from)).")
        }
    }

    func run() throws {
        let factory = try definitions.loadFactory()
        guard let pipeline = factory.pipelines[pipeline] else {
            let known = factory.pipelines.keys.sorted().joined(separator: ", ")
            throw CLIFailure.invalidInput("No pipeline named '\(self.pipeline)' in \(definitions.schedules)"
                                          + (known.isEmpty ? "." : "; pipelines: \(known)."))
        }
        let builder = try PlanBuilder(factory: factory, pipeline: pipeline, from: from, to: to,
                                      maximumWindows: Plan.maximumWindows)
        // Windows are rendered and written one at a time, so a plan of a million windows streams
        // out in constant memory instead of building one large document first.
        var output = StandardOutput()
        switch format {
        case .json:
            var first = true
            output.write("[")
            try builder.forEach { window in
                output.write((first ? "\n  " : ",\n  ") + window.json.render(indent: 2))
                first = false
            }
            output.write(first ? "]\n" : "\n]\n")
        case .csv:
            output.write(CSVOutput.line(["activity", "windowStart", "windowEnd", "dueAt", "inputs"]) + "\n")
            try builder.forEach { window in
                output.write(CSVOutput.line([window.activity, window.window.start.iso8601, window.window.end.iso8601,
                                             window.dueAt.iso8601, window.inputs.map(\.summary).joined(separator: "; ")]) + "\n")
            }
        case .table:
            // Column widths are fixed by the data's shape: names, then ISO times.
            let width = max("ACTIVITY".count, pipeline.activities.map(\.name.count).max() ?? 0)
            func row(_ cells: [String]) -> String {
                let name = cells[0] + String(repeating: " ", count: max(0, width - cells[0].count))
                return ([name] + cells[1...].map { $0.count < 20 ? $0 + String(repeating: " ", count: 20 - $0.count) : $0 })
                    .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
            }
            output.write(row(["ACTIVITY", "WINDOW START", "WINDOW END", "DUE AT", "INPUTS"]))
            try builder.forEach { window in
                output.write(row([window.activity, window.window.start.iso8601, window.window.end.iso8601, window.dueAt.iso8601,
                                  window.inputs.isEmpty ? "-" : window.inputs.map(\.summary).joined(separator: "; ")]))
            }
        }
        output.flush()
    }
}

/// One planned activity window.
struct PlannedWindow {
    struct Input {
        var dataset: String
        var slices: [Slice]
        var summary: String {
            guard let first = slices.first, let last = slices.last else { return "\(dataset): none" }
            return slices.count == 1 ? "\(dataset) \(first.start.iso8601)"
                : "\(dataset) \(slices.count) slices \(first.start.iso8601)..\(last.end.iso8601)"
        }
    }

    var activity: String
    var window: Slice
    var dueAt: Instant
    var inputs: [Input]

    var json: JSONOutput {
        .object([
            ("activity", .string(activity)),
            ("windowStart", .string(window.start.iso8601)),
            ("windowEnd", .string(window.end.iso8601)),
            ("dueAt", .string(dueAt.iso8601)),
            ("inputs", .array(inputs.flatMap { input in
                input.slices.map { slice in
                    JSONOutput.object([
                        ("dataset", .string(input.dataset)),
                        ("sliceStart", .string(slice.start.iso8601)),
                        ("sliceEnd", .string(slice.end.iso8601)),
                    ])
                }
            })),
        ])
    }
}

/// Computes a plan, refusing unbounded or oversized requests before enumerating anything.
struct PlanBuilder {
    var factory: Factory
    var pipeline: Pipeline
    var from: Instant?
    var to: Instant?
    var maximumWindows: Int

    private var ranges: [(Activity, ActivityWindows, SliceRange)] = []

    init(factory: Factory, pipeline: Pipeline, from: Instant?, to: Instant?, maximumWindows: Int) throws {
        self.factory = factory; self.pipeline = pipeline; self.from = from; self.to = to; self.maximumWindows = maximumWindows
        guard let active = pipeline.activePeriod else {
            throw CLIFailure.invalidInput("Pipeline '\(pipeline.name)' has no start, so it has no activity windows.")
        }
        let lower = from ?? active.start
        guard let upper = to ?? active.end else {
            throw CLIFailure.invalidInput("Pipeline '\(pipeline.name)' has no end (9999-09-09), so its plan is unbounded; "
                                          + "give --to to bound it.")
        }
        var total = 0
        for activity in pipeline.activities {
            let windows: ActivityWindows
            do {
                windows = try ActivityWindows(activity: activity, pipeline: pipeline, factory: factory)
            } catch {
                throw CLIFailure.invalidInput("Activity '\(activity.name)' of pipeline '\(pipeline.name)': \(error)")
            }
            let range = windows.windows(from: lower, to: upper)
            total += range.count
            if total > maximumWindows {
                throw CLIFailure.invalidInput("The plan of '\(pipeline.name)' from \(lower) to \(upper) has more than "
                                              + "\(maximumWindows) windows; narrow --from/--to.")
            }
            ranges.append((activity, windows, range))
        }
    }

    /// Every planned window, per activity in definition order, oldest first.
    func forEach(_ body: (PlannedWindow) throws -> Void) throws {
        for (activity, windows, range) in ranges {
            for window in range {
                var inputs: [PlannedWindow.Input] = []
                for input in activity.inputs {
                    guard let dataset = factory.datasets[input.name] else { continue }
                    do {
                        let slices = try DependencyResolver.inputSlices(for: window, input: input, dataset: dataset)
                        inputs.append(.init(dataset: dataset.name, slices: Array(slices)))
                    } catch {
                        throw CLIFailure.invalidInput("Activity '\(activity.name)', input '\(input.name)': \(error)")
                    }
                }
                try body(PlannedWindow(activity: activity.name, window: window, dueAt: windows.dueTime(of: window), inputs: inputs))
            }
        }
    }
}

/// Buffered writes to standard output, flushed in large chunks.
struct StandardOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
