import ArgumentParser
import Foundation
import RefitCore
import RefitRuntime
import RefitStore

/// `refit pause`: no worker sharing the database claims the pipeline's windows until
/// `refit resume` (D13); attempts already running finish. It overrides the definitions'
/// `isPaused: false`; a pipeline paused in its definitions stays paused until they change.
/// `--terminate` also cancels the running attempts (their batch jobs are DELETEd; Canceled).
struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Stop new attempts of a pipeline until `refit resume` (--terminate: cancel running ones too).")

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @OptionGroup var name: PipelineName
    @OptionGroup var operatorOptions: OperatorOptions
    @Flag(help: "Also cancel the pipeline's running attempts (their batch jobs are deleted; they end Canceled).")
    var terminate = false

    func run() throws {
        let pipeline = name.pipeline
        try PauseControl.set(paused: true, pipeline: pipeline, definitions: definitions, database: database, options: operatorOptions)
        guard terminate else { return }
        let store = try database.openWorker()
        defer { store.close() }
        let scheduling = store.scheduling
        let running: [String]
        do {
            running = try store.runningRunIDs(pipeline: pipeline)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        let request = operatorOptions.request
        let now = SystemWallClock().now()
        for runID in running {
            try OperatorInput.perform {
                _ = try await scheduling.requestCancel(runID: runID, actor: request.actor, reason: request.reason, now: now)
            }
        }
        print("\(running.count) running attempt\(running.count == 1 ? "" : "s") of \(pipeline) asked to cancel; their workers stop them within about a second.")
    }
}

/// What `pause` and `resume` share: check the pipeline, record the control with its audit event.
enum PauseControl {
    static func set(paused: Bool, pipeline: String, definitions: SchedulesOption, database: StoreOption, options: OperatorOptions) throws {
        let factory = try OperatorInput.loadFactory(definitions)
        let definition = try OperatorInput.pipeline(pipeline, in: factory, schedules: definitions.schedules)
        let store = try database.openWorker()
        defer { store.close() }
        let scheduling = store.operators
        let request = options.request
        let now = SystemWallClock().now()
        try OperatorInput.perform { try await scheduling.setPaused(pipeline: pipeline, paused: paused, request: request, now: now) }
        if paused {
            print("\(pipeline) paused; running attempts finish, no new ones start until `refit resume \(pipeline)`.")
        } else if definition.isPaused {
            print("\(pipeline) resumed by the operator, but its definitions set isPaused: it stays paused until they change.")
        } else {
            print("\(pipeline) resumed.")
        }
    }
}
