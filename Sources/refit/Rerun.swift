import ArgumentParser
import Foundation
import RefitCore
import RefitRuntime
import RefitStore
import RefitWorker

/// `refit rerun`: resets windows so they run again (D6), with a fresh retry budget, trigger
/// `rerun` and operator priority; without `--only`, every window downstream of them for the same
/// period is reset too, since their inputs are about to change. All or nothing: when any of them
/// is running, nothing changes.
struct Rerun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Run windows again (and, without --only, every window downstream of them).",
        discussion: """
            Resets the window starting at --window (or every window starting in [--window, --to)) of the activity: \
            Waiting with a fresh retry budget, trigger rerun, ahead of scheduled work; failed external input slices \
            are checked again. A running (InProgress) window is refused and nothing changes (exit 1). A worker \
            (refit run or refit tick) runs them.
            """)

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @Option(help: "The pipeline.") var pipeline: String
    @Option(help: "The activity.") var activity: String
    @Option(help: ArgumentHelp("Start of the window (ISO 8601 with Z or an offset; a date alone is midnight UTC).", valueName: "time"))
    var window: String
    @Option(help: ArgumentHelp("Rerun every window starting in [--window, --to).", valueName: "time")) var to: String?
    @Flag(help: "Only the named windows, not the windows downstream of them.") var only = false
    @OptionGroup var operatorOptions: OperatorOptions

    func run() throws {
        let start = try OperatorInput.time(window, option: "window")
        let end = try to.map { try OperatorInput.time($0, option: "to") }
        let factory = try OperatorInput.loadFactory(definitions)
        let pipelineDef = try OperatorInput.pipeline(pipeline, in: factory, schedules: definitions.schedules)
        let activityDef = try OperatorInput.activity(activity, in: pipelineDef)
        let windows = try OperatorInput.windows(of: activityDef, in: pipelineDef, factory: factory, from: start, to: end)
        let store = try database.openOperator()
        defer { store.close() }
        let key = ActivityKey(pipeline: pipelineDef.name, activity: activityDef.name)
        let roots = windows.map { WindowTarget(key: key, start: $0.start) }
        let walked = only ? roots : DownstreamWalk.targets(from: roots, factory: factory)
        // Named windows must exist; downstream ones not created yet have nothing to reset.
        let lookup = store.scheduling
        var existing: [WindowTarget] = []
        for target in walked {
            if try OperatorInput.perform({ try await lookup.window(target.key, start: target.start) }) != nil {
                existing.append(target)
            } else if roots.contains(target) {
                throw CLIFailure.invalidInput(OperatorRefusal.windowNotFound(target).description)
            }
        }
        let targets = existing
        let scheduling = store.operators
        let request = operatorOptions.request
        let budgets: @Sendable (ActivityKey) -> RetryBudget = { key in
            RetryBudget(factory.pipelines[key.pipeline]?.activity(named: key.activity)?.policy ?? ActivityPolicy())
        }
        let now = SystemWallClock().now()
        let changed = try OperatorInput.perform { try await scheduling.rerun(targets, budget: budgets, request: request, now: now) }
        for record in changed {
            print("rerun \(record.key.pipeline)/\(record.key.activity) \(record.window.start.iso8601) (was \(record.status.rawValue))")
        }
        Console.error("refit rerun: \(changed.count) window\(changed.count == 1 ? "" : "s") reset; a worker runs them.")
    }
}
