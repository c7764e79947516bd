import ArgumentParser
import Foundation
import RefitCore
import RefitRuntime
import RefitStore

/// `refit cancel RUN_ID`: cancels one running attempt, whichever process runs it. The request is
/// recorded (and audited); the worker running the attempt notices within about a second, DELETEs
/// its batch job and records the attempt and window Canceled. An attempt whose worker is gone is
/// recorded Canceled when its lease is recovered.
struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a running attempt (its batch job is deleted; the attempt and window end Canceled).",
        discussion: "Exit codes: 0 requested; 1 unknown run id or an attempt that is not running.")

    @OptionGroup var database: StoreOption
    @Argument(help: "The run id of the attempt (a unique prefix is enough).") var runID: String
    @Option(help: "Why (recorded in the audit log).") var reason: String?
    @Option(help: "Who asks (default: $USER).") var actor: String?

    func run() async throws {
        let store = try database.openOperator()
        defer { store.close() }
        let fullID = try store.resolveRunID(runID, databaseName: database.path)
        let actor = self.actor ?? ProcessInfo.processInfo.environment["USER"] ?? "operator"
        let result: CancelRequestResult
        do {
            let scheduling = store.scheduling
            let now = SystemWallClock().now()
            let reason = self.reason
            result = try await scheduling.requestCancel(runID: fullID, actor: actor, reason: reason, now: now)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        switch result {
        case .requested(let owner):
            print("Cancel requested for run \(fullID)" + (owner.map { "; worker \($0) stops it within about a second." } ?? "."))
        case .unknownRun:
            throw CLIFailure.invalidInput("No run with id '\(runID)'.")
        case .notRunning(let status):
            throw CLIFailure.invalidInput("Run \(fullID) is not running (it ended \(status)); nothing to cancel.")
        }
    }
}
