import Foundation
import RefitCore
import RefitPostgres
import RefitStore

/// The database `refit run`, `tick`, `pause` and `resume` work on: a SQLite file, or a
/// PostgreSQL server shared by workers on several hosts (`--db postgres://…`). It gives the
/// worker its scheduling store, each attempt its step journal, the tick summary its counts, and
/// pause and resume the operator store.
enum WorkerDatabase: Sendable {
    case sqlite(Store)
    case postgres(PostgresSchedulingStore)

    var scheduling: any SchedulingStore {
        switch self {
        case .sqlite(let store): SQLiteSchedulingStore(store)
        case .postgres(let store): store
        }
    }

    /// The operator actions (pause and resume are wired to it on both databases).
    var operators: any OperatorStore {
        switch self {
        case .sqlite(let store): SQLiteSchedulingStore(store)
        case .postgres(let store): store
        }
    }

    /// The journal of one attempt.
    func journal(runID: String) -> any StepJournal {
        switch self {
        case .sqlite(let store): SQLiteStepJournal(store: store, runID: runID)
        case .postgres(let store): PostgresStepJournal(database: store.database, runID: runID)
        }
    }

    func recordDefinition(kind: String, name: String, sha256: String, json: String, now: Instant) throws {
        switch self {
        case .sqlite(let store):
            try DefinitionRepository(store).record(kind: kind, name: name, sha256: sha256, json: json, now: now)
        case .postgres(let store):
            try store.recordDefinition(kind: kind, name: name, sha256: sha256, json: json, now: now)
        }
    }

    /// A run's status (`Succeeded`, `Failed`, …), or nil.
    func runStatus(id: String) throws -> String? {
        switch self {
        case .sqlite(let store): try RunRepository(store).run(id: id)?.status
        case .postgres(let store): try store.runStatus(id: id)
        }
    }

    /// When the last input slice of a window became Ready, for `refit_data_to_submit_seconds`.
    func dataReadyAt(pipeline: String, activity: String, windowStart: Instant) throws -> Instant? {
        switch self {
        case .sqlite(let store): try MetricsRepository(store).dataReadyAt(pipeline: pipeline, activity: activity, windowStart: windowStart)
        case .postgres(let store): try store.dataReadyAt(pipeline: pipeline, activity: activity, windowStart: windowStart)
        }
    }

    func windowCount(status: WindowStatus, pipelines: [String]) throws -> Int {
        switch self {
        case .sqlite(let store): try WindowRepository(store).count(status: status, pipelines: pipelines)
        case .postgres(let store): try store.windowCount(status: status, pipelines: pipelines)
        }
    }

    /// The run id `text` names (the full id or a unique prefix); unknown or ambiguous is invalid input.
    func resolveRunID(_ text: String, databaseName: String) throws -> String {
        switch self {
        case .sqlite(let store):
            return try RunIDResolver.resolve(text, store: store, databasePath: databaseName)
        case .postgres(let store):
            let matches: [String]
            do {
                matches = try store.runIDs(prefix: text, limit: 4)
            } catch let error as StoreError {
                throw CLIFailure.internal(error.message)
            }
            if let exact = matches.first(where: { $0 == text }) { return exact }
            if matches.count == 1 { return matches[0] }
            if matches.isEmpty { throw CLIFailure.invalidInput("No run with id '\(text)' in the PostgreSQL database.") }
            throw CLIFailure.invalidInput("The run id prefix '\(text)' is ambiguous: it matches \(matches.prefix(3).joined(separator: ", "))"
                                          + (matches.count > 3 ? " and more" : "") + "; give more characters.")
        }
    }

    /// The run ids of the pipeline's running attempts.
    func runningRunIDs(pipeline: String) throws -> [String] {
        switch self {
        case .sqlite(let store):
            try RunRepository(store).history(RunFilter(pipeline: pipeline, status: "InProgress")).map(\.runID)
        case .postgres(let store):
            try store.runningRunIDs(pipeline: pipeline)
        }
    }

    /// The windows of `pipeline` overlapping [from, to).
    func windows(pipeline: String, from: Instant, to: Instant) throws -> [WindowRecord] {
        switch self {
        case .sqlite(let store): try WindowRepository(store).windows(pipeline: pipeline, from: from, to: to)
        case .postgres(let store): try store.windows(pipeline: pipeline, from: from, to: to)
        }
    }

    /// Pipelines paused by an operator.
    func pausedPipelines() throws -> Set<String> {
        switch self {
        case .sqlite(let store): try PipelineControlRepository(store).pausedPipelines()
        case .postgres(let store): try store.pausedPipelinesNow()
        }
    }

    /// Closes a SQLite file at the end of a command (PostgreSQL connections close with the store).
    func close() {
        if case .sqlite(let store) = self { store.close() }
    }
}
