import Foundation
import RefitCore
import RefitPostgres
import RefitStore

/// The database `refit run`, `tick`, `pause` and `resume` work on: a SQLite file, or a
/// PostgreSQL server shared by workers on several hosts (`--db postgres://…`). It gives the
/// worker its scheduling store, each attempt its step journal, the tick summary its counts, and
/// pause and resume the operator store.
public enum WorkerDatabase: Sendable {
    case sqlite(Store)
    case postgres(PostgresSchedulingStore)

    public var scheduling: any SchedulingStore {
        switch self {
        case .sqlite(let store): SQLiteSchedulingStore(store)
        case .postgres(let store): store
        }
    }

    /// The operator actions (pause and resume are wired to it on both databases).
    public var operators: any OperatorStore {
        switch self {
        case .sqlite(let store): SQLiteSchedulingStore(store)
        case .postgres(let store): store
        }
    }

    /// Rollbacks (`refit rollback`), on both databases.
    public var rollbacks: any RollbackStore {
        switch self {
        case .sqlite(let store): SQLiteSchedulingStore(store)
        case .postgres(let store): store
        }
    }

    /// The journal of one attempt. `endsWithFinish`: the attempt's outcome is recorded by the
    /// scheduling store's `finish` or `release` of `runID` (the worker's attempts), so the last
    /// steps an activity hands over are written in that transaction (on SQLite).
    public func journal(runID: String, endsWithFinish: Bool = true) -> any StepJournal {
        switch self {
        case .sqlite(let store): SQLiteStepJournal(store: store, runID: runID, handsOverToFinish: endsWithFinish)
        case .postgres(let store): PostgresStepJournal(database: store.database, runID: runID)
        }
    }

    public func recordDefinition(kind: String, name: String, sha256: String, json: String, now: Instant) throws {
        switch self {
        case .sqlite(let store):
            try DefinitionRepository(store).record(kind: kind, name: name, sha256: sha256, json: json, now: now)
        case .postgres(let store):
            try store.recordDefinition(kind: kind, name: name, sha256: sha256, json: json, now: now)
        }
    }

    /// A run's status (`Succeeded`, `Failed`, …), or nil.
    public func runStatus(id: String) throws -> String? {
        switch self {
        case .sqlite(let store): try RunRepository(store).run(id: id)?.status
        case .postgres(let store): try store.runStatus(id: id)
        }
    }

    /// When the last input slice of a window became Ready, for `refit_data_to_submit_seconds`.
    public func dataReadyAt(pipeline: String, activity: String, windowStart: Instant) throws -> Instant? {
        switch self {
        case .sqlite(let store): try MetricsRepository(store).dataReadyAt(pipeline: pipeline, activity: activity, windowStart: windowStart)
        case .postgres(let store): try store.dataReadyAt(pipeline: pipeline, activity: activity, windowStart: windowStart)
        }
    }

    public func windowCount(status: WindowStatus, pipelines: [String]) throws -> Int {
        switch self {
        case .sqlite(let store): try WindowRepository(store).count(status: status, pipelines: pipelines)
        case .postgres(let store): try store.windowCount(status: status, pipelines: pipelines)
        }
    }

    /// The run ids of the pipeline's running attempts.
    public func runningRunIDs(pipeline: String) throws -> [String] {
        switch self {
        case .sqlite(let store):
            try RunRepository(store).history(RunFilter(pipeline: pipeline, status: "InProgress")).map(\.runID)
        case .postgres(let store):
            try store.runningRunIDs(pipeline: pipeline)
        }
    }

    /// The windows of `pipeline` overlapping [from, to).
    public func windows(pipeline: String, from: Instant, to: Instant) throws -> [WindowRecord] {
        switch self {
        case .sqlite(let store): try WindowRepository(store).windows(pipeline: pipeline, from: from, to: to)
        case .postgres(let store): try store.windows(pipeline: pipeline, from: from, to: to)
        }
    }

    /// Pipelines paused by an operator.
    public func pausedPipelines() throws -> Set<String> {
        switch self {
        case .sqlite(let store): try PipelineControlRepository(store).pausedPipelines()
        case .postgres(let store): try store.pausedPipelinesNow()
        }
    }

    /// Closes a SQLite file at the end of a command (PostgreSQL connections close with the store).
    public func close() {
        if case .sqlite(let store) = self { store.close() }
    }
}
