import ArgumentParser
import Foundation
import RefitCore
import RefitRuntime
import RefitDefinitions
import RefitStore

/// Input checks shared by the operator commands (`rerun`, `skip`, `pause`, `resume`,
/// `backfill`, `lineage`), so each refuses bad input the same way: one sentence, exit 1 for
/// input that is well formed but wrong (an unknown name, a time without a zone or out of range,
/// a range outside the active period), exit 2 for text that is not a time at all — and before
/// anything is written.
///
/// Times: a date alone (`2026-01-01`) means midnight UTC, as in `refit plan`; a time of day needs
/// `Z` or an offset (`2026-01-01T06:00:00Z`, `…+01:00`), because an operator action on the wrong
/// hour is worse than a refusal.
enum OperatorInput {
    private static let shape = try! NSRegularExpression(
        pattern: #"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$"#)
    private static let zone = try! NSRegularExpression(pattern: #"([Zz]|[+-]\d{2}:?\d{2})$"#)

    /// Parses `--option`'s time by the rules above.
    static func time(_ text: String, option: String) throws -> Instant {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let range = NSRange(trimmed.startIndex..., in: trimmed)
        guard shape.firstMatch(in: trimmed, range: range) != nil else {
            throw CLIFailure.usage("--\(option) '\(text)' is not an ISO 8601 time such as 2026-01-01 or 2026-01-01T06:00:00Z.")
        }
        guard let instant = Instant.parse(trimmed) else {
            throw CLIFailure.invalidInput("--\(option) '\(text)' is out of range (no such date or time of day).")
        }
        if trimmed.count > 10, zone.firstMatch(in: String(trimmed.dropFirst(10)), range: NSRange(location: 0, length: trimmed.count - 10)) == nil {
            throw CLIFailure.invalidInput("--\(option) '\(text)' has no time zone; add Z for UTC or an offset such as +01:00.")
        }
        return instant
    }

    /// Loads the definitions for a command that needs no secrets: only errors are printed (an
    /// unset secret variable matters to the worker, not to an operator action or a report).
    static func loadFactory(_ option: SchedulesOption) throws -> Factory {
        let result = DefinitionLoader.load(directory: option.schedules)
        let errors = result.diagnostics.filter { $0.severity == .error }
        for diagnostic in errors { Console.error(diagnostic.description) }
        guard errors.isEmpty, let factory = result.factory else {
            throw CLIFailure.invalidInput("\(option.schedules): \(errors.count) error\(errors.count == 1 ? "" : "s") in the definitions.")
        }
        return factory
    }

    /// Who acts: `--actor`, else `$USER`, else "unknown".
    static func actor(_ option: String?) -> String {
        if let option, !option.isEmpty { return option }
        return ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
    }

    static func pipeline(_ name: String, in factory: Factory, schedules: String) throws -> Pipeline {
        guard let pipeline = factory.pipelines[name] else {
            let known = factory.pipelines.keys.sorted().joined(separator: ", ")
            throw CLIFailure.invalidInput("No pipeline named '\(name)' in \(schedules)" + (known.isEmpty ? "." : "; pipelines: \(known)."))
        }
        return pipeline
    }

    static func activity(_ name: String, in pipeline: Pipeline) throws -> Activity {
        guard let activity = pipeline.activity(named: name) else {
            throw CLIFailure.invalidInput("Pipeline '\(pipeline.name)' has no activity named '\(name)'; activities: "
                                          + pipeline.activities.map(\.name).joined(separator: ", ") + ".")
        }
        return activity
    }

    static func schedule(_ activity: Activity, in pipeline: Pipeline, factory: Factory) throws -> ActivityWindows {
        do {
            return try factory.windows(of: activity, in: pipeline)
        } catch {
            throw CLIFailure.invalidInput("Activity '\(activity.name)' of pipeline '\(pipeline.name)' has no windows: \(error).")
        }
    }

    /// Refuses `[from, to)` unless it lies inside the pipeline's active period.
    static func checkInsideActivePeriod(_ pipeline: Pipeline, from: Instant, to: Instant) throws {
        guard let period = pipeline.activePeriod else {
            throw CLIFailure.invalidInput("Pipeline '\(pipeline.name)' has no start, so it has no activity windows.")
        }
        let endText = period.end?.iso8601 ?? "no end"
        guard from >= period.start, period.end.map({ to <= $0 }) ?? true else {
            throw CLIFailure.invalidInput("The range \(from.iso8601) to \(to.iso8601) is outside the active period of pipeline "
                                          + "'\(pipeline.name)' (\(period.start.iso8601) to \(endText)).")
        }
    }

    /// The activity's windows starting in `[from, to)`, or the one starting at `from` when `to`
    /// is nil (which must be a window start).
    static func windows(of activity: Activity, in pipeline: Pipeline, factory: Factory, from: Instant, to: Instant?) throws -> [Slice] {
        let schedule = try schedule(activity, in: pipeline, factory: factory)
        if let to {
            guard to > from else {
                throw CLIFailure.invalidInput("--to (\(to.iso8601)) must be after --window/--from (\(from.iso8601)).")
            }
            try checkInsideActivePeriod(pipeline, from: from, to: to)
            let windows = schedule.windows(from: from, to: to).filter { $0.start >= from }
            guard !windows.isEmpty else {
                throw CLIFailure.invalidInput("No window of \(pipeline.name)/\(activity.name) starts between \(from.iso8601) and \(to.iso8601).")
            }
            return windows
        }
        let around = schedule.windows(from: from, to: from + TimeSpan(seconds: 1))
        guard let window = around.first else {
            try checkInsideActivePeriod(pipeline, from: from, to: from + TimeSpan(seconds: 1))
            throw CLIFailure.invalidInput("No window of \(pipeline.name)/\(activity.name) starts at \(from.iso8601).")
        }
        guard window.start == from else {
            throw CLIFailure.invalidInput("\(from.iso8601) is not the start of a window of \(pipeline.name)/\(activity.name); "
                                          + "the window containing it starts \(window.start.iso8601).")
        }
        return [window]
    }

    /// Runs store work, mapping refusals to exit 1 and store failures to exit 3.
    static func perform<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        do {
            return try runBlocking(body)
        } catch let refusal as OperatorRefusal {
            throw CLIFailure.invalidInput(refusal.description)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
    }

    /// `location` without its query string (a SAS token is a credential).
    static func withoutQuery(_ location: String) -> String {
        guard let mark = location.firstIndex(of: "?") else { return location }
        return String(location[..<mark])
    }
}

/// `--actor` and `--reason`, shared by the commands that change state.
struct OperatorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Who asks, for the audit log (default: $USER).", valueName: "name"))
    var actor: String?

    @Option(help: ArgumentHelp("Why, for the audit log.", valueName: "text"))
    var reason: String?

    var request: OperatorRequest { OperatorRequest(actor: OperatorInput.actor(actor), reason: reason) }
}
