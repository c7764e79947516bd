import RefitCore
import RefitStore

/// Why a Waiting window has not started, in words: the input slices it depends on
/// (`DependencyResolver`, as the worker resolves them) that are not Ready, failed ones first —
/// "input RawData slice 2024-01-01T03:00:00Z is Failed (TimedOut)" — rather than only the
/// window's substate. External slices are read from `slices`; a slice of a dataset another
/// activity produces has that activity window's state. Rows are loaded once per dataset or
/// producing pipeline and reused across windows.
struct WindowBlockers {
    let factory: Factory
    let store: any SliceReading
    /// Blockers named per window before the rest are summarized as a count.
    var limit = 3

    private var externalSlices: [String: [Instant: SliceRecord]] = [:]
    private var producedWindows: [ActivityKey: [Instant: WindowRecord]] = [:]

    init(factory: Factory, store: any SliceReading) {
        self.factory = factory
        self.store = store
    }

    /// The blockers of `window` (empty when every input slice is Ready, or when the window is
    /// waiting for something other than its data: its due time, a retry delay, concurrency).
    mutating func blockers(of window: WindowRecord) throws -> [String] {
        guard window.status == .waiting, window.substate == nil || window.substate == .datasetDependencies,
              let activity = factory.pipelines[window.key.pipeline]?.activity(named: window.key.activity) else { return [] }
        var failed: [String] = [], pending: [String] = []
        for input in activity.inputs {
            guard let dataset = factory.datasets[input.name],
                  let slices = try? DependencyResolver.inputSlices(for: window.window, input: input, dataset: dataset) else { continue }
            for slice in slices {
                let prefix = "input \(dataset.name) slice \(slice.start.iso8601)"
                if dataset.external {
                    guard let record = try externalSlice(dataset.name, start: slice.start) else {
                        pending.append("\(prefix) is not checked yet")
                        continue
                    }
                    guard record.status != .ready else { continue }
                    let text = "\(prefix) is \(Self.state(record.status, record.substate))"
                    if record.status == .failed || record.status == .skipped { failed.append(text) } else { pending.append(text) }
                } else if let producer = producer(of: dataset.name) {
                    guard let record = try producedWindow(producer, start: slice.start) else {
                        pending.append("\(prefix) is not scheduled yet (activity \(producer.activity))")
                        continue
                    }
                    guard record.status != .ready else { continue }
                    let text = "\(prefix) is \(Self.state(record.status, record.substate)) (activity \(producer.activity))"
                    if record.status == .failed || record.status == .skipped { failed.append(text) } else { pending.append(text) }
                } else {
                    pending.append("\(prefix) has no activity that produces it")
                }
            }
        }
        let all = failed + pending
        guard all.count > limit else { return all }
        return Array(all.prefix(limit)) + ["\(all.count - limit) more input slice\(all.count - limit == 1 ? "" : "s") not Ready"]
    }

    static func state(_ status: WindowStatus, _ substate: WindowSubstate?) -> String {
        status.rawValue + (substate.map { " (\($0.rawValue))" } ?? "")
    }

    /// The activity whose first output is `dataset` (ADF: the output slice is the window).
    private func producer(of dataset: String) -> ActivityKey? {
        for pipeline in factory.pipelines.values.sorted(by: { $0.name < $1.name }) {
            if let activity = pipeline.activities.first(where: { $0.outputs.contains(dataset) }) {
                return ActivityKey(pipeline: pipeline.name, activity: activity.name)
            }
        }
        return nil
    }

    private mutating func externalSlice(_ dataset: String, start: Instant) throws -> SliceRecord? {
        if externalSlices[dataset] == nil {
            let rows = try store.slices(datasets: [dataset])
            externalSlices[dataset] = Dictionary(rows.map { ($0.slice.start, $0) }) { first, _ in first }
        }
        return externalSlices[dataset]?[start]
    }

    private mutating func producedWindow(_ key: ActivityKey, start: Instant) throws -> WindowRecord? {
        if producedWindows[key] == nil {
            let rows = try store.windows(pipeline: key.pipeline).filter { $0.key == key }
            producedWindows[key] = Dictionary(rows.map { ($0.window.start, $0) }) { first, _ in first }
        }
        return producedWindows[key]?[start]
    }
}
