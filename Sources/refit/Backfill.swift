import ArgumentParser
import Foundation
import Logging
import RefitCore
import RefitRuntime
import RefitStore
import RefitWorker

extension BackfillMode: ExpressibleByArgument {}
extension BackfillOrder: ExpressibleByArgument {}

/// `refit backfill`: queues a pipeline's windows in a past period, recorded under an id so
/// `refit backfills` shows its progress. Windows that were never created (before the watermark:
/// the pipeline's `start` moved earlier) are created; finished ones run again per `--mode`. The
/// queued windows get graded claim priorities, so `--order` holds among them whatever the
/// activities' `executionPriorityOrder`, and they go before scheduled work. With `--wait` this
/// process works on it like `refit run` (sharing the work with other workers) until every window
/// of the backfill is Ready, Skipped or Failed.
struct Backfill: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Queue (and with --wait, run) a pipeline's windows in a past period.",
        discussion: """
            Every window of the named activities (default: all of the pipeline's) starting in [--from, --to) and due now \
            is considered. --mode missing (default) queues windows not Ready or Skipped; failed only Failed ones; all \
            also Ready and Skipped ones, which run again. Windows that do not exist yet are created. The range must lie \
            in the pipeline's active period. Queued windows run with trigger backfill. Exit codes: 0 ok (with --wait: \
            every window ended Ready or Skipped); 1 invalid input; 4 with --wait when a window ended Failed or the wait \
            was interrupted before the end.
            """)

    static let failedExitCode: Int32 = 4
    static let maximumWindows = 1_000_000

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @Option(help: "The pipeline.") var pipeline: String
    @Option(help: ArgumentHelp("Start of the period (inclusive).", valueName: "time")) var from: String
    @Option(help: ArgumentHelp("End of the period (exclusive).", valueName: "time")) var to: String
    @Option(name: .customLong("activity"), help: "An activity to backfill (repeatable; default: every activity of the pipeline).")
    var activities: [String] = []
    @Option(help: "missing (not Ready or Skipped), failed, or all.") var mode: BackfillMode = .missing
    @Option(help: "OldestFirst or NewestFirst: the order among this backfill's windows.") var order: BackfillOrder = .oldestFirst
    @Flag(name: .customLong("dry-run"), help: "Print the windows it would queue and change nothing.") var dryRun = false
    @Flag(help: "Work on the backfill in this process until every window of it has finished.") var wait = false
    @Option(help: "Output format: table or json.") var format: Format = .table
    @OptionGroup var operatorOptions: OperatorOptions
    @OptionGroup var workerOptions: WorkerOptions

    /// One window of the range, with its state now (nil: not created yet).
    struct Candidate {
        var activity: Activity
        var window: Slice
        var dueAt: Instant
        var state: WindowStatus?
    }

    func run() throws {
        let fromTime = try OperatorInput.time(from, option: "from")
        let toTime = try OperatorInput.time(to, option: "to")
        guard toTime > fromTime else { throw CLIFailure.invalidInput("--to (\(toTime.iso8601)) must be after --from (\(fromTime.iso8601)).") }
        let factory = wait ? try definitions.loadFactory() : try OperatorInput.loadFactory(definitions)
        let pipelineDef = try OperatorInput.pipeline(pipeline, in: factory, schedules: definitions.schedules)
        try OperatorInput.checkInsideActivePeriod(pipelineDef, from: fromTime, to: toTime)
        let chosen = try activities.isEmpty ? pipelineDef.activities : activities.map { try OperatorInput.activity($0, in: pipelineDef) }
        // A dry run against a database not created yet sees every window as not created.
        let store = dryRun && !database.isPostgres && !FileManager.default.fileExists(atPath: database.path) ? nil : try database.openWorker()
        let now = SystemWallClock().now()

        var existing: [String: WindowStatus] = [:]
        do {
            for record in try store.map({ try $0.windows(pipeline: pipelineDef.name, from: fromTime, to: toTime) }) ?? [] {
                existing["\(record.key.activity)@\(record.window.start.iso8601)"] = record.status
            }
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        var candidates: [Candidate] = []
        var notDue = 0
        for activity in chosen {
            let schedule = try OperatorInput.schedule(activity, in: pipelineDef, factory: factory)
            let range = schedule.windows(from: fromTime, to: toTime)
            guard candidates.count + range.count <= Self.maximumWindows else {
                throw CLIFailure.invalidInput("The backfill of '\(pipelineDef.name)' from \(fromTime.iso8601) to \(toTime.iso8601) has more than "
                                              + "\(Self.maximumWindows) windows; narrow --from/--to.")
            }
            for window in range where window.start >= fromTime {
                let due = schedule.dueTime(of: window)
                guard due <= now else { notDue += 1; continue }
                let state = existing["\(activity.name)@\(window.start.iso8601)"]
                guard mode.selects(state) else { continue }
                candidates.append(Candidate(activity: activity, window: window, dueAt: due, state: state))
            }
        }
        if notDue > 0 {
            Console.error("refit backfill: \(notDue) window\(notDue == 1 ? " is" : "s are") not due yet; the schedule runs "
                          + "\(notDue == 1 ? "it" : "them") when due.")
        }
        guard !dryRun, let store else {
            printDryRun(candidates)
            return
        }
        let paused = try store.pausedPipelines().contains(pipelineDef.name) || pipelineDef.isPaused
        if wait && paused {
            throw CLIFailure.invalidInput("Pipeline '\(pipelineDef.name)' is paused, so --wait would never end; "
                                          + "`refit resume \(pipelineDef.name)` first, or backfill without --wait.")
        }
        let hashes = try WorkerSetup.recordDefinitions(factory, database: store)
        let priorities = order.priorities(candidates.map(\.window.start))
        let windows = candidates.map { candidate in
            BackfillWindow(key: ActivityKey(pipeline: pipelineDef.name, activity: candidate.activity.name), window: candidate.window,
                           dueAt: candidate.dueAt, budget: RetryBudget(candidate.activity.policy), outputs: candidate.activity.outputs,
                           definitionSHA256: hashes[pipelineDef.name], priority: priorities[candidate.window.start] ?? 1)
        }
        let request = BackfillRequest(pipeline: pipelineDef.name, activities: chosen.map(\.name), from: fromTime, to: toTime,
                                      mode: mode, order: order, request: operatorOptions.request)
        let scheduling = store.operators
        let record = try OperatorInput.perform { try await scheduling.startBackfill(request, windows: windows, now: now) }
        switch format {
        case .json: print(Backfills.row(record).json.render())
        case .table:
            print("backfill \(record.id): \(record.progress.total) window\(record.progress.total == 1 ? "" : "s") of \(pipelineDef.name) "
                  + "(\(request.activities.joined(separator: ", "))) from \(fromTime.iso8601) to \(toTime.iso8601), mode \(mode.rawValue), "
                  + "\(order.rawValue).")
        }
        guard wait else { return }
        let worker = try WorkerSetup.make(factory: factory, database: store, schedulesDirectory: definitions.schedules,
                                          maxParallel: workerOptions.maxParallel, logFormat: workerOptions.logFormat, logLevel: .warning)
        let final = try BackfillWait(id: record.id, store: scheduling, worker: worker).run()
        if final.progress.failed > 0 || !final.progress.isFinished {
            throw ExitCode(Self.failedExitCode)
        }
    }

    private func printDryRun(_ candidates: [Candidate]) {
        func state(_ c: Candidate) -> String { c.state?.rawValue ?? "None" }
        switch format {
        case .json:
            print(JSONOutput.array(candidates.map { c in
                .object([("activity", .string(c.activity.name)), ("windowStart", .string(c.window.start.iso8601)),
                         ("windowEnd", .string(c.window.end.iso8601)), ("state", .string(state(c)))])
            }).render())
        case .table:
            print(TableOutput.render(header: ["ACTIVITY", "WINDOW START", "WINDOW END", "STATE"],
                                     rows: candidates.map { [$0.activity.name, $0.window.start.iso8601, $0.window.end.iso8601, state($0)] }))
            Console.error("refit backfill --dry-run: \(candidates.count) window\(candidates.count == 1 ? "" : "s") would be queued; nothing changed.")
        }
    }
}
