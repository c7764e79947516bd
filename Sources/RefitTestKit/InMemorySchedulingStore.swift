import Foundation
import RefitCore

/// `SchedulingStore` in memory, for tests that exercise the worker (or a future store) without
/// a database file. It keeps the same rows the SQLite store keeps — windows with their
/// incremental missing-input counts, window inputs, activity outputs, external slices, runs and
/// their lineage, outputs, deployments, endpoint locks, pauses and an audit trail — and applies
/// the same transitions: every decision comes from `WindowStateMachine` or
/// `ExternalSliceCheck`, and each method runs under one lock, so it is as atomic as one SQLite
/// transaction. Both stores pass the same conformance suite, which is what keeps this one honest.
///
/// A class with a lock rather than an actor so tests can read its rows synchronously
/// (`runs`, `windows(pipeline:)`, `slices`, ...) and pause pipelines (`setPaused`), which the
/// protocol only reads.
public final class InMemorySchedulingStore: SchedulingStore, @unchecked Sendable {
    // @unchecked: `state` is only touched while holding `lock`.
    private let lock = NSLock()
    private var state = State()

    public init() {}

    /// Runs `body` on the rows while holding the lock: one method, one atomic step.
    func locked<T>(_ body: (inout State) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }

    // MARK: Materialization

    public func watermark(_ key: ActivityKey) async throws -> Instant? {
        locked { $0.watermarks[key] }
    }

    public func materialize(_ key: ActivityKey, windows: [NewWindow], until: Instant, outputs: [String],
                            definitionSHA256: String, budget: RetryBudget, now: Instant) async throws -> Int {
        locked { s in
            if s.activityOutputs[key, default: []] != Set(outputs) { s.activityOutputs[key] = Set(outputs) }
            var inserted = 0
            for new in windows {
                let slot = State.WindowSlot(key: key, start: new.window.start)
                guard s.windowIDs[slot] == nil else { continue }
                var machine = WindowStateMachine(dueAt: new.dueAt, budget: budget, trigger: new.trigger)
                _ = machine.timeArrived(now)
                let id = s.nextWindowID
                s.nextWindowID += 1
                s.windows[id] = WindowRecord(
                    id: id, key: key, window: new.window, status: .waiting, substate: machine.substate, attempts: 0,
                    longRetryRound: 0, nextAttemptAt: machine.nextAttemptAt, nextTrigger: new.trigger, priority: 0,
                    leaseOwner: nil, leaseExpiresAt: nil, definitionSHA256: definitionSHA256, updatedAt: now, missingInputs: nil)
                s.windowIDs[slot] = id
                s.windowsByKey[key, default: []].append(id)
                inserted += 1
            }
            if s.watermarks[key].map({ until > $0 }) ?? true { s.watermarks[key] = until }
            if inserted > 0, let first = windows.first {
                s.audit("windowsMaterialized", at: now, key: key, windowStart: first.window.start)
            }
            return inserted
        }
    }

    // MARK: Readiness

    public func unresolvedWindows(limit: Int) async throws -> [WindowRecord] {
        locked { s in
            Array(s.windows.values.filter { $0.status == .waiting && $0.missingInputs == nil }
                .sorted { $0.id < $1.id }.prefix(max(0, limit)))
        }
    }

    public func recordInputs(_ inputs: [WindowInputs], now: Instant) async throws {
        guard !inputs.isEmpty else { return }
        locked { s in
            for entry in inputs {
                guard var record = s.windows[entry.windowID], record.missingInputs == nil else { continue }
                var missing = 0
                if let slices = entry.inputs {
                    for input in slices {
                        let key = State.SliceKey(dataset: input.dataset, start: input.slice.start)
                        let ready: Bool
                        if let check = input.external {
                            if s.sliceIDs[key] == nil {
                                let id = s.nextSliceID
                                s.nextSliceID += 1
                                s.slices[id] = SliceRecord(id: id, dataset: input.dataset, slice: input.slice, status: check.status,
                                                           substate: check.substate, fingerprint: nil, checkCount: 0,
                                                           nextCheckAt: check.nextCheckAt, message: nil, updatedAt: now)
                                s.sliceIDs[key] = id
                            }
                            ready = s.sliceIDs[key].flatMap { s.slices[$0] }?.status == .ready
                        } else {
                            ready = s.producedReady(key)
                        }
                        guard s.inputs[entry.windowID]?[key] == nil else { continue }
                        s.inputs[entry.windowID, default: [:]][key] = WindowInput(dataset: input.dataset, slice: input.slice, ready: ready)
                        s.consumers[key, default: []].insert(entry.windowID)
                        if !ready { missing += 1 }
                    }
                } else {
                    // Unresolvable with these definitions: never runnable until they change.
                    missing = 1
                }
                var machine = record.machine(RetryBudget(ActivityPolicy()))
                _ = missing == 0 ? machine.dependenciesReady() : machine.dependenciesMissing()
                record.missingInputs = missing
                record.substate = machine.substate
                record.updatedAt = now
                s.windows[entry.windowID] = record
            }
        }
    }

    public func resetInputs(pipeline: String, now: Instant) async throws -> Int {
        locked { s in
            let reset = s.windows.values.filter { $0.key.pipeline == pipeline && $0.status == .waiting && $0.missingInputs != nil }
            for var record in reset {
                s.forgetInputs(of: record.id)
                record.missingInputs = nil
                record.updatedAt = now
                s.windows[record.id] = record
            }
            return reset.count
        }
    }

    // MARK: Candidates

    public func candidates(_ query: CandidateQuery, now: Instant) async throws -> [WindowRecord] {
        guard query.limit > 0 else { return [] }
        return locked { s in
            let runnable = s.windows(of: query.key).filter { State.isRunnable($0, query, now: now) }
            let inOrder: (WindowRecord, WindowRecord) -> Bool = query.order == .newestFirst
                ? { $0.window.start > $1.window.start } : { $0.window.start < $1.window.start }
            // Operator reruns (priority > 0) first, then the rest in the activity's order.
            let prioritized = runnable.filter { $0.priority > 0 }
                .sorted { $0.priority != $1.priority ? $0.priority > $1.priority : inOrder($0, $1) }
            let plain = runnable.filter { $0.priority == 0 }.sorted(by: inOrder)
            return Array((prioritized + plain).prefix(query.limit))
        }
    }

    public func labelConcurrencyLimited(_ query: CandidateQuery, limit: Int, now: Instant) async throws -> Int {
        guard limit > 0 else { return 0 }
        return locked { s in
            let labelled = s.windows(of: query.key).filter { State.isRunnable($0, query, now: now) && $0.substate == nil }
                .sorted { ($0.priority, $0.window.start) < ($1.priority, $1.window.start) }.prefix(limit)
            for var record in labelled {
                record.substate = .concurrencyLimit
                record.updatedAt = now
                s.windows[record.id] = record
            }
            return labelled.count
        }
    }

    public func runningCounts() async throws -> [ActivityKey: Int] {
        locked { s in
            var counts: [ActivityKey: Int] = [:]
            for record in s.windows.values where record.status == .inProgress { counts[record.key, default: 0] += 1 }
            return counts
        }
    }

    public func window(id: Int64) async throws -> WindowRecord? {
        locked { $0.windows[id] }
    }

    public func window(_ key: ActivityKey, start: Instant) async throws -> WindowRecord? {
        locked { $0.window(key, start: start) }
    }

    public func nextWakeTime(after now: Instant, workerID: String) async throws -> Instant? {
        locked { s in
            let attempt = s.windows.values.filter { $0.status == .waiting && $0.missingInputs == 0 }
                .compactMap(\.nextAttemptAt).filter { $0 > now }.min()
            let lease = s.windows.values.filter { $0.leaseOwner != nil && $0.leaseOwner != workerID }
                .compactMap(\.leaseExpiresAt).min().map { max($0, now) + TimeSpan(seconds: 1) }
            return [attempt, lease].compactMap { $0 }.min()
        }
    }

    // MARK: Operator controls

    public func pausedPipelines() async throws -> Set<String> {
        locked { $0.paused }
    }

    /// Pauses or resumes a pipeline as an operator would (`refit pause` / `resume`); the
    /// protocol only reads pauses, so tests set them here.
    public func setPaused(_ pipeline: String, _ paused: Bool) {
        locked { s in
            if paused { s.paused.insert(pipeline) } else { s.paused.remove(pipeline) }
        }
    }

    public func applyPause(pipeline: String, paused: Bool, now: Instant) async throws -> Int {
        locked { s in
            let changed = s.windows.values.filter { record in
                guard record.key.pipeline == pipeline, record.status == .waiting else { return false }
                return paused ? record.substate != .activityResume : record.substate == .activityResume
            }
            for var record in changed {
                // Resumed windows wait for their inputs again, or run at once when nothing is missing.
                record.substate = paused ? .activityResume : (record.missingInputs == 0 ? nil : .datasetDependencies)
                record.updatedAt = now
                s.windows[record.id] = record
            }
            if !changed.isEmpty { s.audit(paused ? "windowsPaused" : "windowsResumed", at: now, pipeline: pipeline) }
            return changed.count
        }
    }

    public func rerun(_ key: ActivityKey, start: Instant, budget: RetryBudget, reason: String, now: Instant) async throws -> Bool {
        locked { s in
            guard let record = s.window(key, start: start) else { return false }
            var machine = record.machine(budget)
            guard machine.rerunRequested(now) == .checkDependencies else { return false }
            if record.missingInputs == 0 { _ = machine.dependenciesReady() }
            var updated = record
            updated.status = machine.status
            updated.substate = machine.substate
            updated.attempts = machine.attempts
            updated.longRetryRound = machine.longRetryRound
            updated.nextAttemptAt = machine.nextAttemptAt
            updated.nextTrigger = machine.nextTrigger
            updated.priority = 1
            updated.updatedAt = now
            s.windows[record.id] = updated
            s.windowChanged(record, from: record.status, to: machine.status, now: now)
            // Input slices that failed for late or invalid data, or whose data changed, are checked again.
            let rearm = (s.inputs[record.id] ?? [:]).keys.compactMap { s.sliceIDs[$0].flatMap { s.slices[$0] } }
                .filter { $0.status == .failed || ($0.status == .ready && $0.changedAt != nil) }.sorted { $0.id < $1.id }
            for var slice in rearm {
                let wasReady = slice.status == .ready
                var check = slice.check(policy: nil, validation: nil)
                guard case .scheduleCheck = check.rearmed(now, dataChanged: slice.changedAt != nil) else { continue }
                slice.status = check.status
                slice.substate = check.substate
                slice.fingerprint = check.fingerprint
                slice.checkCount = check.checkCount
                slice.nextCheckAt = check.nextCheckAt
                slice.message = check.lastMessage
                slice.changedAt = nil
                slice.updatedAt = now
                s.slices[slice.id] = slice
                if wasReady { s.sliceChanged(State.SliceKey(dataset: slice.dataset, start: slice.slice.start), ready: false, now: now) }
            }
            s.audit("windowRerun", at: now, key: key, windowStart: start)
            return true
        }
    }

    // MARK: External slices

    public func dueChecks(now: Instant, datasets: [String], limit: Int) async throws -> [SliceRecord] {
        guard !datasets.isEmpty else { return [] }
        return locked { s in
            let names = Set(datasets)
            let due = s.slices.values.filter { slice in
                guard slice.status == .waiting, names.contains(slice.dataset), let next = slice.nextCheckAt else { return false }
                return next <= now
            }.sorted { a, b in
                if a.nextCheckAt != b.nextCheckAt { return a.nextCheckAt! < b.nextCheckAt! }
                return (a.dataset, a.slice.start) < (b.dataset, b.slice.start)
            }
            return State.page(due, limit)
        }
    }

    public func waitingBetweenChecks(datasets: [String], now: Instant, limit: Int) async throws -> [SliceRecord] {
        guard !datasets.isEmpty else { return [] }
        return locked { s in
            let names = Set(datasets)
            let waiting = s.slices.values.filter { slice in
                guard slice.status == .waiting, slice.checkCount > 0, names.contains(slice.dataset),
                      let next = slice.nextCheckAt else { return false }
                return next > now
            }.sorted { ($0.dataset, $0.slice.start) < ($1.dataset, $1.slice.start) }
            return State.page(waiting, limit)
        }
    }

    public func recordChecks(_ checks: [SliceCheckUpdate], now: Instant) async throws {
        guard !checks.isEmpty else { return }
        locked { s in
            for update in checks {
                guard var slice = s.slices[update.sliceID], slice.status == .waiting,
                      slice.checkCount == update.seenCheckCount else { continue }
                let before = slice.status
                let check = update.check
                slice.status = check.status
                slice.substate = check.substate
                slice.fingerprint = check.fingerprint
                slice.checkCount = check.checkCount
                slice.nextCheckAt = check.nextCheckAt
                slice.message = check.lastMessage
                slice.updatedAt = now
                s.slices[slice.id] = slice
                if check.status == .ready && before != .ready {
                    s.sliceChanged(State.SliceKey(dataset: slice.dataset, start: slice.slice.start), ready: true, now: now)
                }
                s.audit("sliceChecked", at: now, windowStart: slice.slice.start)
            }
        }
    }

    public func readySlices(datasets: [String], since: Instant, after cursor: SliceCursor?, limit: Int) async throws -> [SliceRecord] {
        guard !datasets.isEmpty, limit > 0 else { return [] }
        return locked { s in
            let names = Set(datasets)
            return s.slices.values
                .filter { names.contains($0.dataset) && $0.status == .ready && $0.changedAt == nil && ($0.updatedAt ?? since) >= since }
                .map { (slice: $0, key: ($0.dataset, $0.updatedAt ?? since, $0.id)) }
                .filter { entry in cursor.map { entry.key > ($0.dataset, $0.readyAt, $0.sliceID) } ?? true }
                .sorted { $0.key < $1.key }.map(\.slice)
                .prefix(limit).map { $0 }
        }
    }

    @discardableResult
    public func recordDataChanges(_ changes: [SliceDataChange], now: Instant) async throws -> Int {
        locked { s in
            var marked = 0
            for change in changes {
                guard var slice = s.slices[change.sliceID], slice.status == .ready, slice.changedAt == nil,
                      slice.fingerprint == change.recorded else { continue }
                slice.changedAt = now
                slice.message = change.detail
                slice.updatedAt = now
                s.slices[slice.id] = slice
                s.audit("sliceDataChanged", at: now, windowStart: slice.slice.start)
                marked += 1
            }
            return marked
        }
    }

    public func nextCheckTime(datasets: [String]) async throws -> Instant? {
        guard !datasets.isEmpty else { return nil }
        return locked { s in
            let names = Set(datasets)
            return s.slices.values.filter { $0.status == .waiting && names.contains($0.dataset) }.compactMap(\.nextCheckAt).min()
        }
    }

    // MARK: Deployments

    public func claimEndpoint(_ endpoint: String, runID: String, modelWindowStart: Instant, now: Instant) async throws -> EndpointClaim {
        try locked { s in try Self.claimEndpoint(&s, endpoint, runID: runID, modelWindowStart: modelWindowStart, now: now) }
    }

    /// `claimEndpoint` under the caller's lock (also the claim's, for a request that names an endpoint).
    static func claimEndpoint(_ s: inout State, _ endpoint: String, runID: String, modelWindowStart: Instant,
                              now: Instant) throws -> EndpointClaim {
        // No journal here: no PATCH is ever unsettled or in doubt.
        let claim = EndpointClaim.decide(modelWindowStart: modelWindowStart, holder: {
            s.endpointLocks[endpoint].map(\.runID).flatMap { holder in
                holder != runID && s.run(holder)?.status == .inProgress ? holder : nil
            }
        }, unsettledPatch: { nil }, serving: { s.servingWindowStart(endpoint: endpoint) }, inDoubt: { nil })
        guard claim == .acquired else { return claim }
        // The lock names a run, as the SQL schema's foreign key demands.
        guard s.run(runID) != nil else { throw Failure.unknownRun(runID) }
        s.endpointLocks[endpoint] = EndpointLock(endpoint: endpoint, runID: runID, acquiredAt: now)
        return .acquired
    }
}
