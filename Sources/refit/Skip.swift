import ArgumentParser
import Foundation
import RefitCore
import RefitRuntime
import RefitStore

/// `refit skip`: marks windows Skipped, as ADF's Set-SliceStatus did, so a window that cannot or
/// must not run stops being retried. A Skipped window does not satisfy its consumers, so they
/// keep waiting (a Ready window skipped takes its output away from them). All or nothing: when
/// any named window is running, nothing changes.
struct Skip: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skip",
        abstract: "Mark windows Skipped (Waiting, Failed or Ready ones; running ones are refused).")

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @Option(help: "The pipeline.") var pipeline: String
    @Option(help: "The activity.") var activity: String
    @Option(help: ArgumentHelp("Start of the window (ISO 8601 with Z or an offset; a date alone is midnight UTC).", valueName: "time"))
    var window: String
    @Option(help: ArgumentHelp("Skip every window starting in [--window, --to).", valueName: "time")) var to: String?
    @OptionGroup var operatorOptions: OperatorOptions

    func validate() throws {
        guard let reason = operatorOptions.reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--reason is required: say why the windows are skipped.")
        }
    }

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
        let targets = windows.map { WindowTarget(key: key, start: $0.start) }
        let scheduling = store.operators
        let request = operatorOptions.request
        let now = SystemWallClock().now()
        let changed = try OperatorInput.perform { try await scheduling.skip(targets, request: request, now: now) }
        for record in changed {
            print("skipped \(record.key.pipeline)/\(record.key.activity) \(record.window.start.iso8601) (was \(record.status.rawValue))")
        }
        Console.error("refit skip: \(changed.count) window\(changed.count == 1 ? "" : "s") marked Skipped.")
    }
}
