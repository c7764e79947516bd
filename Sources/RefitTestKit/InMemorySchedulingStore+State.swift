import Foundation
import RefitCore

/// The rows the in-memory store keeps, and the readiness bookkeeping shared by its methods.
extension InMemorySchedulingStore {
    struct State {
        /// One window per activity and start, as the SQL schema's unique key.
        struct WindowSlot: Hashable {
            var key: ActivityKey
            var start: Instant
        }

        /// One dataset slice, as window inputs and external slices name it.
        struct SliceKey: Hashable {
            var dataset: String
            var start: Instant
        }

        var windows: [Int64: WindowRecord] = [:]
        var windowIDs: [WindowSlot: Int64] = [:]
        /// Each activity's windows, so per-activity queries (candidates, the claim's running
        /// count) cost that activity's windows, not every window.
        var windowsByKey: [ActivityKey: [Int64]] = [:]
        var nextWindowID: Int64 = 1
        var watermarks: [ActivityKey: Instant] = [:]
        var activityOutputs: [ActivityKey: Set<String>] = [:]
        /// Each window's input slices (`window_inputs`).
        var inputs: [Int64: [SliceKey: WindowInput]] = [:]
        /// The windows reading each slice, so a slice entering or leaving Ready touches only them.
        var consumers: [SliceKey: Set<Int64>] = [:]
        var slices: [Int64: SliceRecord] = [:]
        var sliceIDs: [SliceKey: Int64] = [:]
        var nextSliceID: Int64 = 1
        /// Runs in claim order (the SQL rowid order); `runIndex` finds one by id.
        var runs: [Run] = []
        var runIndex: [String: Int] = [:]
        var runInputs: [String: [RunInput]] = [:]
        var outputs: [Output] = []
        var deployments: [Deployment] = []
        var endpointLocks: [String: EndpointLock] = [:]
        var paused: Set<String> = []
        var events: [Event] = []
        /// Operators' cancel requests by run id (`cancel_requests`).
        var cancelRequests: [String: CancelRequest] = [:]
        /// Registered worker processes by id (`workers`).
        var workers: [String: WorkerRecord] = [:]

        // MARK: Lookups

        func window(_ key: ActivityKey, start: Instant) -> WindowRecord? {
            windowIDs[WindowSlot(key: key, start: start)].flatMap { windows[$0] }
        }

        /// The windows of one activity, oldest id first.
        func windows(of key: ActivityKey) -> [WindowRecord] {
            (windowsByKey[key] ?? []).compactMap { windows[$0] }
        }

        func run(_ runID: String) -> Run? {
            runIndex[runID].map { runs[$0] }
        }

        mutating func updateRun(_ runID: String, _ change: (inout Run) -> Void) {
            guard let index = runIndex[runID] else { return }
            change(&runs[index])
        }

        /// The conditions of a claimable window of the query's activity.
        static func isRunnable(_ record: WindowRecord, _ query: CandidateQuery, now: Instant) -> Bool {
            guard record.key == query.key, record.status == .waiting, record.missingInputs == 0,
                  let next = record.nextAttemptAt, next <= now, record.leaseOwner == nil,
                  record.substate != .activityResume else { return false }
            return query.contains(record)
        }

        /// At most `limit` rows; a negative limit means all of them (as SQL's LIMIT).
        static func page<T>(_ rows: [T], _ limit: Int) -> [T] {
            limit < 0 ? rows : Array(rows.prefix(limit))
        }

        static func isValidJSON(_ text: String) -> Bool {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
        }

        mutating func audit(_ kind: String, at: Instant, key: ActivityKey? = nil, pipeline: String? = nil,
                            windowStart: Instant? = nil, runID: String? = nil) {
            events.append(Event(kind: kind, at: at, pipeline: key?.pipeline ?? pipeline, activity: key?.activity,
                                windowStart: windowStart, runID: runID))
        }

        // MARK: Readiness

        /// Whether an activity producing `slice.dataset` has its window at `slice.start` Ready.
        func producedReady(_ slice: SliceKey) -> Bool {
            activityOutputs.contains { producer in
                producer.value.contains(slice.dataset) && window(producer.key, start: slice.start)?.status == .ready
            }
        }

        mutating func forgetInputs(of windowID: Int64) {
            for slice in (inputs.removeValue(forKey: windowID) ?? [:]).keys {
                consumers[slice]?.remove(windowID)
                if consumers[slice]?.isEmpty == true { consumers[slice] = nil }
            }
        }

        /// The slice became Ready (`ready`) or stopped being Ready: the count of every window
        /// reading it moves by one, and Waiting ones are relabelled.
        mutating func sliceChanged(_ slice: SliceKey, ready: Bool, now: Instant) {
            for id in consumers[slice] ?? [] {
                guard var input = inputs[id]?[slice], input.ready != ready else { continue }
                if var record = windows[id], let missing = record.missingInputs {
                    let count = max(missing + (ready ? -1 : 1), 0)
                    record.missingInputs = count
                    if record.status == .waiting {
                        if count == 0 && record.substate == .datasetDependencies {
                            record.substate = nil
                        } else if count > 0 && (record.substate == nil || record.substate == .concurrencyLimit) {
                            record.substate = .datasetDependencies
                        }
                    }
                    record.updatedAt = now
                    windows[id] = record
                }
                input.ready = ready
                inputs[id]?[slice] = input
            }
        }

        /// A window moved from `old` to `new`: if it entered or left Ready, the slices its
        /// activity produces at its start follow.
        mutating func windowChanged(_ record: WindowRecord, from old: WindowStatus, to new: WindowStatus, now: Instant) {
            guard (old == .ready) != (new == .ready) else { return }
            for dataset in (activityOutputs[record.key] ?? []).sorted() {
                sliceChanged(SliceKey(dataset: dataset, start: record.window.start), ready: new == .ready, now: now)
            }
        }

        /// Writes the machine's state onto the window (clearing its lease), and moves the
        /// readiness of its consumers when the window entered or left Ready.
        mutating func writeMachine(_ machine: WindowStateMachine, record: WindowRecord, now: Instant) {
            guard var current = windows[record.id] else { return }
            current.status = machine.status
            current.substate = machine.substate
            current.attempts = machine.attempts
            current.longRetryRound = machine.longRetryRound
            current.nextAttemptAt = machine.nextAttemptAt
            current.nextTrigger = machine.nextTrigger
            current.leaseOwner = nil
            current.leaseExpiresAt = nil
            current.updatedAt = now
            windows[record.id] = current
            windowChanged(record, from: record.status, to: machine.status, now: now)
        }

        /// What an attempt of `windowID` reads: the fingerprints seen, or the runs that produced it.
        func lineage(of windowID: Int64) -> [RunInput] {
            (inputs[windowID] ?? [:]).values.sorted { ($0.dataset, $0.slice.start) < ($1.dataset, $1.slice.start) }.map { input in
                let fingerprint = sliceIDs[SliceKey(dataset: input.dataset, start: input.slice.start)].flatMap { slices[$0]?.fingerprint }
                let producers = Set(activityOutputs.filter { $0.value.contains(input.dataset) }
                    .compactMap { window($0.key, start: input.slice.start)?.id })
                let producer = runs.enumerated().filter { producers.contains($0.element.windowID) && $0.element.status == .succeeded }
                    .max { ($0.element.startedAt, $0.offset) < ($1.element.startedAt, $1.offset) }?.element.runID
                return RunInput(dataset: input.dataset, slice: input.slice, fingerprint: fingerprint, producerRunID: producer)
            }
        }

        // MARK: Deployments

        /// The training window start of the model serving `endpoint` now, per the deployments
        /// recorded; nil when nothing was deployed there yet.
        func servingWindowStart(endpoint: String) -> Instant? {
            deployments.last { $0.endpoint == endpoint }?.modelWindow.start
        }

        /// Why `deployment` would replace a model trained on a newer window, or nil.
        func supersededReason(_ deployment: ProducedDeployment) -> String? {
            guard !deployment.forced, let serving = servingWindowStart(endpoint: deployment.endpoint),
                  serving > deployment.modelWindow.start else { return nil }
            return "A model trained on the newer window starting \(serving.iso8601) already serves endpoint \(deployment.endpoint)."
        }

        mutating func insertDeployment(_ deployment: ProducedDeployment, runID: String, now: Instant) {
            guard !deployments.contains(where: { $0.runID == runID && $0.endpoint == deployment.endpoint }) else { return }
            let replaced = deployments.last { $0.endpoint == deployment.endpoint }?.id
            let output = outputs.last { $0.location == deployment.modelLocation }?.id
            deployments.append(Deployment(id: Int64(deployments.count + 1), endpoint: deployment.endpoint,
                                          modelLocation: deployment.modelLocation, modelWindow: deployment.modelWindow,
                                          outputID: output, runID: runID, deployedAt: now, replacedDeploymentID: replaced,
                                          reason: deployment.reason, forced: deployment.forced))
        }
    }
}
