import RefitCore
import RefitStore

/// `StoreInspector` over the SQLite store's own repositories.
struct SQLiteInspector: StoreInspector {
    let store: Store
    /// Keeps the database file's folder until the test ends.
    let folder: TemporaryDirectory

    func setPaused(_ pipeline: String, _ paused: Bool, now: Instant) throws {
        try PipelineControlRepository(store).setPaused(pipeline, paused: paused, now: now)
    }

    func runs() throws -> [RunSnapshot] {
        try RunRepository(store).history().map(Self.snapshot)
    }

    func runs(windowID: Int64) throws -> [RunSnapshot] {
        try RunRepository(store).history().filter { $0.windowID == windowID }.map(Self.snapshot)
    }

    func run(id: String) throws -> RunSnapshot? {
        try RunRepository(store).run(id: id).map(Self.snapshot)
    }

    func slices(datasets: [String]) throws -> [SliceRecord] {
        try SliceRepository(store).slices(datasets: datasets)
    }

    func eventKinds(runID: String) throws -> [String] {
        try RunRepository(store).events(runID: runID).map(\.kind)
    }

    static func snapshot(_ run: RunRecord) -> RunSnapshot {
        RunSnapshot(runID: run.runID, windowID: run.windowID, attempt: run.attempt, trigger: RunTrigger(rawValue: run.trigger),
                    status: RunStatus(rawValue: run.status), substatus: run.substatus.flatMap(WindowSubstate.init(rawValue:)),
                    errorClass: run.errorClass.flatMap(RunErrorClass.init(rawValue:)), errorMessage: run.errorMessage,
                    externalJobID: run.externalJobID, workerID: run.workerID, ended: run.endedAt != nil)
    }
}
