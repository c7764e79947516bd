import RefitCore
import RefitTestKit

/// `StoreInspector` over the in-memory store's read accessors.
struct InMemoryInspector: StoreInspector {
    let store: InMemorySchedulingStore

    func setPaused(_ pipeline: String, _ paused: Bool, now: Instant) throws {
        store.setPaused(pipeline, paused)
    }

    func runs() throws -> [RunSnapshot] {
        store.runs.map(Self.snapshot)
    }

    func runs(windowID: Int64) throws -> [RunSnapshot] {
        store.runs(windowID: windowID).map(Self.snapshot)
    }

    func run(id: String) throws -> RunSnapshot? {
        store.run(id: id).map(Self.snapshot)
    }

    func slices(datasets: [String]) throws -> [SliceRecord] {
        let names = Set(datasets)
        return store.slices.filter { names.contains($0.dataset) }
    }

    func eventKinds(runID: String) throws -> [String] {
        store.events.filter { $0.runID == runID }.map(\.kind)
    }

    static func snapshot(_ run: InMemorySchedulingStore.Run) -> RunSnapshot {
        RunSnapshot(runID: run.runID, windowID: run.windowID, attempt: run.attempt, trigger: run.trigger, status: run.status,
                    substatus: run.substatus, errorClass: run.errorClass, errorMessage: run.errorMessage,
                    externalJobID: run.externalJobID, workerID: run.workerID, ended: run.endedAt != nil)
    }
}
