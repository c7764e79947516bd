import RefitCore
import RefitRuntime
import RefitStore
import RefitWorker

/// What one `refit tick` did, counted from the database after its attempts ended: the runs it
/// started by outcome, and the windows of its pipelines still Waiting.
struct TickSummary {
    var started = 0, succeeded = 0, failed = 0, canceled = 0, skipped = 0, inProgress = 0
    var materialized = 0, checks = 0, recovered = 0, waiting = 0

    init(report: TickReport, database: WorkerDatabase, pipelines: [String]) throws {
        started = report.started.count
        for attempt in report.started {
            switch try database.runStatus(id: attempt.runID) {
            case "Succeeded": succeeded += 1
            case "Failed", "TimedOut": failed += 1
            case "Canceled": canceled += 1
            case "Skipped": skipped += 1
            default: inProgress += 1
            }
        }
        materialized = report.materialized
        checks = report.checks
        recovered = report.recovered
        waiting = try database.windowCount(status: .waiting, pipelines: pipelines)
    }

    var sentence: String {
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        var outcomes = ["\(succeeded) succeeded", "\(failed) failed"]
        if canceled > 0 { outcomes.append("\(canceled) canceled") }
        if skipped > 0 { outcomes.append("\(skipped) skipped") }
        if inProgress > 0 { outcomes.append("\(inProgress) still running") }
        return "refit tick: \(plural(started, "attempt")) started (\(outcomes.joined(separator: ", "))), "
            + "\(plural(materialized, "window")) created, \(plural(checks, "data check")), "
            + "\(plural(waiting, "window")) still waiting."
    }

    /// The JSON summary's fields after the log line's own (`summary` names the command).
    var fields: [(String, JSONOutput)] {
        [("summary", .string("tick")), ("started", .int(Int64(started))), ("succeeded", .int(Int64(succeeded))),
         ("failed", .int(Int64(failed))), ("canceled", .int(Int64(canceled))), ("skipped", .int(Int64(skipped))),
         ("inProgress", .int(Int64(inProgress))), ("waiting", .int(Int64(waiting))),
         ("materialized", .int(Int64(materialized))), ("checks", .int(Int64(checks))), ("recovered", .int(Int64(recovered)))]
    }
}
