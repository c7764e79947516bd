import Foundation
import Logging
import RefitCore
import RefitStore

/// The engine. One `tick` is one scheduling pass: recover expired leases, honour pauses,
/// materialize due windows from the watermarks, probe due external slices, decide which
/// windows are runnable, claim them with leases and start their attempts. `run` repeats
/// ticks, sleeping until the next thing is due. Several workers (processes) may share one
/// database: claims are conditional, so no window is ever run by two of them at once.
public actor Worker {
    public nonisolated let configuration: WorkerConfiguration
    private var factory: Factory
    private let windows: WindowRepository
    private let slices: SliceRepository
    private let controls: PipelineControlRepository
    private let runner: any ActivityRunner
    private var locations: StorageLocationProvider
    /// Each pipeline's definition hash, named by every run (from the configuration, then reloads).
    private var definitionHashes: [String: String]
    private let clock: any WallClock
    private let sleeper: any WorkerSleeper
    private let logger: Logger

    private var running: [String: RunningAttempt] = [:]
    private var stopping = false
    private var sleepTask: Task<Void, any Error>?
    private var pendingWake = false
    /// Set by `storageChanged()`: the next pass re-checks waiting FileShare slices early.
    private var recheckWaitingData = false

    private struct RunningAttempt {
        var claim: ClaimedAttempt
        var task: Task<Void, Never>
    }

    public init(factory: Factory, store: Store, runner: any ActivityRunner, locations: @escaping StorageLocationProvider,
                clock: any WallClock = SystemWallClock(), sleeper: any WorkerSleeper = SystemSleeper(),
                configuration: WorkerConfiguration, logger: Logger = Logger(label: "refit.worker")) {
        self.factory = factory
        self.windows = WindowRepository(store)
        self.slices = SliceRepository(store)
        self.controls = PipelineControlRepository(store)
        self.runner = runner
        self.locations = locations
        self.definitionHashes = configuration.definitionSHA256
        self.clock = clock
        self.sleeper = sleeper
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.workerID)"
        self.logger = logger
    }

    /// Attempts this worker is running now.
    public var runningCount: Int { running.count }

    // MARK: One pass

    /// One scheduling pass at the clock's current time. Returns what it started; the attempts
    /// keep running in the background (`waitForRunning()` waits for them).
    @discardableResult
    public func tick() async throws -> TickReport {
        let now = clock.now()
        let recovered = try windows.recoverExpiredLeases(now: now, budget: budget(for:))
        for window in recovered {
            logger.warning("lease expired; the lost attempt counts against the retry budget",
                           metadata: metadata(window.key, window.window))
        }
        let paused = try pausedPipelines()
        for name in factory.pipelines.keys.sorted() {
            try windows.applyPause(pipeline: name, paused: paused.contains(name), now: now)
        }
        var materialized = 0
        for (pipeline, activity) in activeActivities(excluding: paused) {
            materialized += try materialize(pipeline: pipeline, activity: activity, now: now)
        }
        guard !stopping else { return TickReport(started: [], materialized: materialized, checks: 0, recovered: recovered.count) }

        // Candidates per activity, and the external slices they need.
        var candidates: [(Pipeline, Activity, [WindowRecord])] = []
        for (pipeline, activity) in activeActivities(excluding: paused) {
            let key = ActivityKey(pipeline: pipeline.name, activity: activity.name)
            // Only windows inside the activity's active period as defined now: after a reload
            // that shortened it, the windows left outside stay Waiting in the history.
            let period = try? factory.windows(of: activity, in: pipeline)
            let waiting = try windows.claimCandidates(key, now: now).filter { record in
                guard let period else { return true }
                return record.window.start >= period.activeStart && period.activeEnd.map { record.window.start < $0 } ?? true
            }
            if !waiting.isEmpty { candidates.append((pipeline, activity, waiting)) }
        }
        let inputs = resolveInputs(of: candidates)
        try ensureExternalSlices(for: candidates, inputs: inputs, now: now)
        var checks = try await probeDueSlices(now: now)
        if recheckWaitingData {
            recheckWaitingData = false
            checks += try await probeWaitingEarly(now: now)
        }

        // Readiness, then the dispatch plan.
        var runnable: [DispatchPlanner.Candidate] = []
        var labels: [(id: Int64, substate: WindowSubstate?)] = []
        var limits: [ActivityKey: DispatchPlanner.Limits] = [:]
        var byID: [Int64: (Pipeline, Activity, WindowRecord)] = [:]
        for (pipeline, activity, waiting) in candidates {
            let key = ActivityKey(pipeline: pipeline.name, activity: activity.name)
            limits[key] = DispatchPlanner.Limits(activity.policy)
            let ready = try readiness(of: waiting, activity: activity, inputs: inputs)
            for record in waiting {
                var machine = record.machine(budget(for: key))
                if ready.contains(record.id) {
                    _ = machine.dependenciesReady()
                    runnable.append(.init(id: record.id, key: key, window: record.window, priority: record.priority))
                    byID[record.id] = (pipeline, activity, record)
                } else {
                    _ = machine.dependenciesMissing()
                }
                if machine.substate != record.substate { labels.append((record.id, machine.substate)) }
            }
        }
        let plan = DispatchPlanner(maxParallel: configuration.maxParallel)
            .plan(candidates: runnable, running: try windows.runningCounts(), runningHere: running.count, limits: limits)
        var started: [StartedAttempt] = []
        var limitedIDs = Set(plan.limited.map(\.id))
        for candidate in plan.start {
            guard let (pipeline, activity, _) = byID[candidate.id] else { continue }
            if let attempt = try start(candidate, pipeline: pipeline, activity: activity, now: now) {
                started.append(attempt)
            } else {
                limitedIDs.insert(candidate.id)
            }
        }
        for (index, label) in labels.enumerated().reversed() where limitedIDs.contains(label.id) { labels.remove(at: index) }
        labels += limitedIDs.map { ($0, WindowSubstate.concurrencyLimit) }
        try windows.setWaitingSubstates(labels, now: now)
        return TickReport(started: started, materialized: materialized, checks: checks, recovered: recovered.count)
    }

    /// `refit tick`: one pass, then wait until every attempt it started has finished.
    @discardableResult
    public func tickAndWait() async throws -> TickReport {
        let report: TickReport
        do {
            report = try await tick()
        } catch {
            // A pass that fails part way (database busy or full) may already have started
            // attempts: let them finish and record their outcomes before reporting the failure.
            await waitForRunning()
            throw error
        }
        await waitForRunning()
        return report
    }

    /// Waits until no attempt of this worker is running.
    public func waitForRunning() async {
        while let next = running.values.first {
            await next.task.value
        }
    }

    // MARK: The daemon

    /// Runs ticks until `stop()`: after each pass it sleeps until the next window is due, a
    /// retry delay or external check comes up, or another worker's lease expires — or until
    /// woken early by `wakeUps` (storage change notifications, e.g. a file system watcher:
    /// each one is `storageChanged()`) or by an attempt finishing. Then
    /// it stops claiming, lets running attempts finish within the grace period, and releases
    /// the leases of those that did not.
    public func run(wakeUps: AsyncStream<Void>? = nil) async {
        logger.info("worker started")
        let listener = wakeUps.map { stream in
            Task { [weak self] in
                for await _ in stream { await self?.storageChanged() }
            }
        }
        while !stopping {
            do {
                let report = try await tick()
                if !report.started.isEmpty || report.materialized > 0 || report.recovered > 0 {
                    logger.debug("tick", metadata: ["started": "\(report.started.count)", "materialized": "\(report.materialized)",
                                                    "checks": "\(report.checks)", "recovered": "\(report.recovered)"])
                }
            } catch {
                logger.error("scheduling pass failed; retrying after a pause", metadata: ["error": "\(error)"])
            }
            if stopping { break }
            let wakeAt = nextWakeTime()
            await sleep(until: wakeAt)
        }
        listener?.cancel()
        await drain()
        logger.info("worker stopped")
    }

    /// Asks `run` to stop gracefully (SIGTERM/SIGINT): no new claims; running attempts get
    /// `gracePeriod` to finish.
    public func stop() {
        stopping = true
        sleepTask?.cancel()
    }

    /// Wakes the run loop now (new data landed, an attempt finished, an operator acted).
    public func wake() {
        if let sleepTask { sleepTask.cancel() } else { pendingWake = true }
    }

    /// New data may have landed (a file system watcher saw a change): wake now, and in that pass
    /// re-check the waiting FileShare slices at once instead of at their next `retryInterval`
    /// check. An early check that finds a slice Ready is recorded; one that does not is
    /// discarded, so notifications never use up `maximumRetry`.
    public func storageChanged() {
        recheckWaitingData = true
        wake()
    }

    /// New definitions (`refit run` on SIGHUP): later passes schedule, probe and claim with them.
    /// Attempts already running finish with the definitions they started with; windows already
    /// materialized stay (a shortened active period leaves its later windows in the history).
    public func reload(factory: Factory, locations: @escaping StorageLocationProvider, definitionSHA256: [String: String]) {
        self.factory = factory
        self.locations = locations
        self.definitionHashes = definitionSHA256
        logger.info("definitions reloaded", metadata: ["pipelines": "\(factory.pipelines.count)", "datasets": "\(factory.datasets.count)"])
        wake()
    }

    /// When the next pass is needed: the earliest of the next window due time, retry time,
    /// external check, or foreign lease expiry; never earlier than a second from now, never
    /// later than `maximumSleep`.
    public func nextWakeTime() -> Instant {
        let now = clock.now()
        var times: [Instant] = [now + configuration.maximumSleep]
        let paused = (try? pausedPipelines()) ?? []
        for (pipeline, activity) in activeActivities(excluding: paused) {
            guard let schedule = try? factory.windows(of: activity, in: pipeline) else { continue }
            let key = ActivityKey(pipeline: pipeline.name, activity: activity.name)
            if let mark = try? windows.watermark(key), let pending = schedule.windows(from: mark, to: schedule.activeEnd ?? .adfNoEnd, dueBy: now).first {
                times.append(schedule.dueTime(of: pending))
            }
            if let next = schedule.nextDue(after: now) { times.append(next.due) }
        }
        if let t = try? windows.nextWakeTime(after: now, workerID: configuration.workerID) { times.append(t) }
        if let t = try? slices.nextCheckTime(datasets: externalDatasets) { times.append(t) }
        let earliest = times.min() ?? now + configuration.maximumSleep
        return max(earliest, now + TimeSpan(seconds: 1))
    }

    private func sleep(until instant: Instant) async {
        if pendingWake || stopping { pendingWake = false; return }
        let sleeper = self.sleeper, clock = self.clock
        let task = Task { try await sleeper.sleep(until: instant, clock: clock) }
        sleepTask = task
        _ = await task.result
        sleepTask = nil
        pendingWake = false
    }

    /// After `stop()`: let attempts finish within the grace period, then cancel the rest
    /// (they release their leases without charging the attempt).
    private func drain() async {
        guard !running.isEmpty else { return }
        logger.info("waiting for running attempts to finish", metadata: ["running": "\(running.count)"])
        let deadline = clock.now() + configuration.gracePeriod
        let sleeper = self.sleeper, clock = self.clock
        let timer = Task { [weak self] in
            do { try await sleeper.sleep(until: deadline, clock: clock) } catch { return }
            await self?.cancelRunning()
        }
        await waitForRunning()
        timer.cancel()
    }

    /// Cancels every running attempt (the grace period is over); each releases its lease.
    private func cancelRunning() {
        if !running.isEmpty {
            logger.warning("grace period over; canceling running attempts", metadata: ["running": "\(running.count)"])
        }
        for attempt in running.values { attempt.task.cancel() }
    }

    // MARK: Reruns

    /// Reruns a window (D6) and, with `downstream`, every window that consumes its outputs for
    /// the same period, transitively. Returns the windows reset, as (activity key, start).
    @discardableResult
    public func rerun(pipeline: String, activity: String, windowStart: Instant, downstream: Bool = true) throws -> [(ActivityKey, Slice)] {
        let now = clock.now()
        guard let pipelineDef = factory.pipelines[pipeline], let activityDef = pipelineDef.activity(named: activity) else { return [] }
        var queue: [(Pipeline, Activity, Instant)] = [(pipelineDef, activityDef, windowStart)]
        var done: [(ActivityKey, Slice)] = []
        var seen = Set<String>()
        while !queue.isEmpty {
            let (p, a, start) = queue.removeFirst()
            let key = ActivityKey(pipeline: p.name, activity: a.name)
            guard seen.insert("\(key)@\(start.iso8601)").inserted, let record = try windows.window(key, start: start) else { continue }
            if try windows.rerun(key, start: start, budget: budget(for: key), now: now) {
                done.append((key, record.window))
                logger.info("window rerun requested", metadata: metadata(key, record.window))
            }
            guard downstream else { continue }
            for (consumer, consumerActivity) in consumers(of: a) {
                guard let schedule = try? factory.windows(of: consumerActivity, in: consumer) else { continue }
                for window in schedule.windows(from: record.window.start, to: record.window.end) {
                    queue.append((consumer, consumerActivity, window.start))
                }
            }
        }
        wake()
        return done
    }

    // MARK: Steps of a pass

    private func pausedPipelines() throws -> Set<String> {
        var paused = try controls.pausedPipelines()
        for (name, pipeline) in factory.pipelines where pipeline.isPaused { paused.insert(name) }
        return paused
    }

    private func activeActivities(excluding paused: Set<String>) -> [(Pipeline, Activity)] {
        factory.pipelines.keys.sorted().compactMap { factory.pipelines[$0] }
            .filter { !paused.contains($0.name) && $0.activePeriod != nil }
            .flatMap { pipeline in pipeline.activities.map { (pipeline, $0) } }
    }

    private func budget(for key: ActivityKey) -> RetryBudget {
        RetryBudget(factory.pipelines[key.pipeline]?.activity(named: key.activity)?.policy ?? ActivityPolicy())
    }

    private func definitionSHA256(_ pipeline: Pipeline) -> String {
        definitionHashes[pipeline.name] ?? SHA256.hex(String(reflecting: pipeline))
    }

    private func materialize(pipeline: Pipeline, activity: Activity, now: Instant) throws -> Int {
        let key = ActivityKey(pipeline: pipeline.name, activity: activity.name)
        let schedule: ActivityWindows
        do { schedule = try factory.windows(of: activity, in: pipeline) } catch {
            logger.error("activity has no windows", metadata: ["pipeline": "\(pipeline.name)", "activity": "\(activity.name)",
                                                               "error": "\(error)"])
            return 0
        }
        let from = try windows.watermark(key) ?? schedule.activeStart
        let due = schedule.windows(from: from, to: schedule.activeEnd ?? .adfNoEnd, dueBy: now)
        guard !due.isEmpty else { return 0 }
        let batch = due.prefix(configuration.materializationBatch)
        let new = batch.map { window -> NewWindow in
            let dueAt = schedule.dueTime(of: window)
            // Catch-up work (due more than one window ago) is recorded as a backfill.
            let trigger: RunTrigger = dueAt + window.duration <= now ? .backfill : .schedule
            return NewWindow(window: window, dueAt: dueAt, trigger: trigger)
        }
        guard let last = new.last else { return 0 }
        let inserted = try windows.materialize(key, windows: new, until: last.window.end,
                                               definitionSHA256: definitionSHA256(pipeline), budget: budget(for: key), now: now)
        if inserted > 0 {
            logger.debug("windows materialized", metadata: ["pipeline": "\(key.pipeline)", "activity": "\(key.activity)",
                                                            "count": "\(inserted)"])
        }
        return inserted
    }

    /// Creates the external input slices the candidate windows need (idempotent).
    /// Each waiting window's input slices by input name, resolved once per pass (ensuring the
    /// external slices and deciding readiness both need them); an input that cannot be resolved
    /// is left out, and its window is not ready.
    private func resolveInputs(of candidates: [(Pipeline, Activity, [WindowRecord])]) -> [Int64: [String: SliceRange]] {
        var resolved: [Int64: [String: SliceRange]] = [:]
        for (_, activity, waiting) in candidates {
            for input in activity.inputs {
                guard let dataset = factory.datasets[input.name] else { continue }
                for record in waiting {
                    guard let range = try? DependencyResolver.inputSlices(for: record.window, input: input, dataset: dataset) else { continue }
                    resolved[record.id, default: [:]][input.name] = range
                }
            }
        }
        return resolved
    }

    private func ensureExternalSlices(for candidates: [(Pipeline, Activity, [WindowRecord])], inputs: [Int64: [String: SliceRange]],
                                      now: Instant) throws {
        var needed: [String: [Slice: ExternalSliceCheck]] = [:]
        for (_, activity, waiting) in candidates {
            for input in activity.inputs {
                guard let dataset = factory.datasets[input.name], dataset.external else { continue }
                for record in waiting {
                    guard let inputSlices = inputs[record.id]?[input.name] else { continue }
                    for slice in inputSlices where needed[dataset.name]?[slice] == nil {
                        needed[dataset.name, default: [:]][slice] = ExternalSliceCheck(
                            slice: slice, policy: dataset.externalData, validation: dataset.validation)
                    }
                }
            }
        }
        for (dataset, checks) in needed {
            try slices.ensure(dataset: dataset, slices: checks.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }, now: now)
        }
    }

    /// Probes every external slice whose check is due, one `probe` call per dataset, each
    /// bounded by the dataset's `retryTimeout`. Returns the number of checks made.
    private func probeDueSlices(now: Instant) async throws -> Int {
        try await check(try slices.dueChecks(now: now, datasets: externalDatasets), onlyReady: false)
    }

    /// The names of the external datasets defined now (slices of removed ones are never checked).
    private var externalDatasets: [String] {
        factory.datasets.values.filter(\.external).map(\.name).sorted()
    }

    /// The early re-check after `storageChanged()`: waiting FileShare slices between checks,
    /// probed now; only the ones found Ready are recorded. Returns the number recorded.
    private func probeWaitingEarly(now: Instant) async throws -> Int {
        let watched = factory.datasets.values.filter { $0.external && $0.kind == .fileShare }.map(\.name).sorted()
        return try await check(try slices.waitingBetweenChecks(datasets: watched, now: now), onlyReady: true)
    }

    /// Probes `records`, one `probe` call per dataset, and records each check (the checks of one
    /// probe in one transaction). With `onlyReady` (an early re-check) only slices found Ready
    /// are recorded; a miss, a probe error or a timeout leaves the slice as it was. Returns the
    /// number of checks recorded.
    private func check(_ records: [SliceRecord], onlyReady: Bool) async throws -> Int {
        var checks = 0
        for (name, records) in Dictionary(grouping: records, by: \.dataset).sorted(by: { $0.key < $1.key }) {
            guard let dataset = factory.datasets[name] else { continue }
            let outcomes: [Slice: ProbeOutcome]?
            if let location = locations(dataset) {
                outcomes = await probe(location, records.map(\.slice), dataset: dataset)
            } else {
                let message = "no storage probe is available for \(dataset.kind.rawValue) dataset \(dataset.name)"
                outcomes = Dictionary(uniqueKeysWithValues: records.map { ($0.slice, ProbeOutcome.failed(message: message, retryable: false)) })
            }
            let checkedAt = clock.now()
            var results: [(record: SliceRecord, check: ExternalSliceCheck)] = []
            for record in records {
                var check = record.check(policy: dataset.externalData, validation: dataset.validation)
                let action = outcomes.map { check.checked($0[record.slice] ?? .absent(detail: "the probe gave no answer for this slice"), at: checkedAt) }
                    ?? check.checkTimedOut(at: checkedAt)
                if !onlyReady || action == .markReady { results.append((record, check)) }
            }
            try slices.record(results.map { ($0.record.id, $0.check) }, now: checkedAt)
            checks += results.count
            for (record, check) in results where check.status != .waiting {
                logger.info("external slice \(check.status.rawValue)",
                            metadata: ["dataset": "\(name)", "slice": "\(record.slice.start)", "early": "\(onlyReady)",
                                       "substate": "\(check.substate?.rawValue ?? "-")", "message": "\(check.lastMessage ?? "-")"])
            }
        }
        return checks
    }

    /// Runs one probe, giving up after the dataset's `retryTimeout` (nil = timed out).
    private func probe(_ location: any StorageLocation, _ wanted: [Slice], dataset: Dataset) async -> [Slice: ProbeOutcome]? {
        let timeout = (dataset.externalData ?? Dataset.ExternalDataPolicy()).retryTimeout
        let sleeper = self.sleeper, clock = self.clock
        let deadline = clock.now() + timeout
        return await withTaskGroup(of: [Slice: ProbeOutcome]?.self) { group in
            group.addTask { await location.probe(wanted, of: dataset) }
            if timeout.seconds > 0 {
                group.addTask {
                    do { try await sleeper.sleep(until: deadline, clock: clock) } catch { return [:] }
                    return nil
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Ids of the windows whose every input slice is Ready (external: checked present; internal:
    /// the producing window succeeded).
    private func readiness(of waiting: [WindowRecord], activity: Activity, inputs: [Int64: [String: SliceRange]]) throws -> Set<Int64> {
        var ready = Set(waiting.map(\.id))
        for input in activity.inputs {
            guard let dataset = factory.datasets[input.name] else { return [] }
            var needs: [Int64: [Slice]] = [:]
            var lower: Instant?, upper: Instant?
            for record in waiting where ready.contains(record.id) {
                guard let range = inputs[record.id]?[input.name], let span = range.span else { ready.remove(record.id); continue }
                needs[record.id] = Array(range)
                lower = min(lower ?? span.start, span.start)
                upper = max(upper ?? span.end, span.end)
            }
            guard let lower, let upper else { continue }
            var present: Set<Instant>
            if dataset.external {
                present = try slices.readyStarts(dataset: dataset.name, from: lower, to: upper)
            } else {
                present = []
                for (producer, producerActivity) in producers(of: dataset.name) {
                    present.formUnion(try windows.readyWindowStarts(
                        ActivityKey(pipeline: producer.name, activity: producerActivity.name), from: lower, to: upper))
                }
            }
            for (id, slicesNeeded) in needs where !slicesNeeded.allSatisfy({ present.contains($0.start) }) {
                ready.remove(id)
            }
        }
        return ready
    }

    private func producers(of dataset: String) -> [(Pipeline, Activity)] {
        factory.pipelines.keys.sorted().compactMap { factory.pipelines[$0] }.flatMap { pipeline in
            pipeline.activities.filter { $0.outputs.contains(dataset) }.map { (pipeline, $0) }
        }
    }

    private func consumers(of activity: Activity) -> [(Pipeline, Activity)] {
        let outputs = Set(activity.outputs)
        return factory.pipelines.keys.sorted().compactMap { factory.pipelines[$0] }.flatMap { pipeline in
            pipeline.activities.filter { consumer in consumer.inputs.contains { outputs.contains($0.name) } }.map { (pipeline, $0) }
        }
    }

    // MARK: Attempts

    private func start(_ candidate: DispatchPlanner.Candidate, pipeline: Pipeline, activity: Activity,
                       now: Instant) throws -> StartedAttempt? {
        let runID = UUID().uuidString.lowercased()
        let sha = definitionSHA256(pipeline)
        guard let claim = try windows.claim(windowID: candidate.id, workerID: configuration.workerID, runID: runID,
                                            leaseDuration: configuration.leaseDuration, concurrency: activity.policy.concurrency,
                                            budget: budget(for: candidate.key), definitionSHA256: sha, now: now) else { return nil }
        let deadline = activity.policy.timeout.seconds > 0 ? now + activity.policy.timeout : nil
        let context = AttemptContext(factory: factory, pipeline: pipeline, activity: activity, window: claim.window,
                                     attempt: claim.attempt, runID: runID, trigger: claim.trigger, definitionSHA256: sha,
                                     deadline: deadline, workerID: configuration.workerID)
        logger.info("attempt started", metadata: metadata(claim.key, claim.window, runID: runID,
                                                          extra: ["attempt": "\(claim.attempt)", "trigger": "\(claim.trigger.rawValue)"]))
        let task = Task { await self.execute(claim, context) }
        running[runID] = RunningAttempt(claim: claim, task: task)
        return StartedAttempt(runID: runID, pipeline: claim.key.pipeline, activity: claim.key.activity, window: claim.window,
                              attempt: claim.attempt, trigger: claim.trigger)
    }

    private enum Ending: Sendable {
        case outcome(AttemptOutcome)
        case deadlinePassed
        case leaseLost
    }

    private func execute(_ claim: ClaimedAttempt, _ context: AttemptContext) async {
        let runner = self.runner, sleeper = self.sleeper, clock = self.clock
        let windows = self.windows, configuration = self.configuration
        let ending: Ending = await withTaskGroup(of: Ending?.self) { group in
            group.addTask { .outcome(await runner.run(context)) }
            if let deadline = context.deadline {
                group.addTask {
                    do { try await sleeper.sleep(until: deadline, clock: clock) } catch { return nil }
                    return .deadlinePassed
                }
            }
            group.addTask {
                // Lease renewal while the attempt runs.
                while !Task.isCancelled {
                    do { try await sleeper.sleep(until: clock.now() + configuration.leaseRenewalInterval, clock: clock) } catch { return nil }
                    let now = clock.now()
                    let renewed = (try? windows.renewLease(windowID: claim.windowID, workerID: configuration.workerID,
                                                          until: now + configuration.leaseDuration, now: now)) ?? false
                    if !renewed { return .leaseLost }
                }
                return nil
            }
            var result: Ending = .leaseLost
            while let next = await group.next() {
                if let next { result = next; break }
            }
            group.cancelAll()
            return result
        }
        finish(claim, context: context, ending: ending, interrupted: Task.isCancelled)
    }

    private func finish(_ claim: ClaimedAttempt, context: AttemptContext, ending: Ending, interrupted: Bool) {
        defer {
            running[claim.runID] = nil
            wake()
        }
        let now = clock.now()
        let meta = metadata(claim.key, claim.window, runID: claim.runID)
        if interrupted && stopping {
            do {
                try windows.release(runID: claim.runID, workerID: configuration.workerID, budget: budget(for: claim.key), now: now)
                logger.warning("attempt interrupted by shutdown; lease released", metadata: meta)
            } catch {
                logger.error("could not release the lease; it will expire", metadata: meta.merging(["error": "\(error)"]) { $1 })
            }
            return
        }
        let outcome: AttemptOutcome
        switch ending {
        case .leaseLost:
            logger.error("lease lost while the attempt ran; another worker owns the window now", metadata: meta)
            return
        case .deadlinePassed:
            outcome = .timedOut(message: "The attempt exceeded the activity's timeout of \(context.activity.policy.timeout).")
        case .outcome(let value):
            outcome = value
        }
        do {
            guard let finished = try windows.finish(runID: claim.runID, workerID: configuration.workerID, outcome: outcome,
                                                    budget: budget(for: claim.key), now: now) else { return }
            let level: Logger.Level = finished.status == .failed ? .error : .info
            logger.log(level: level, "attempt finished", metadata: meta.merging([
                "outcome": "\(outcome.summary)", "window.state": "\(finished.status.rawValue)",
                "window.substate": "\(finished.substate?.rawValue ?? "-")", "applied": "\(finished.applied)"]) { $1 })
        } catch {
            logger.error("could not record the attempt's outcome; the lease will expire and the attempt be retried",
                         metadata: meta.merging(["error": "\(error)"]) { $1 })
        }
    }

    private func metadata(_ key: ActivityKey, _ window: Slice, runID: String? = nil,
                          extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var meta: Logger.Metadata = ["pipeline": "\(key.pipeline)", "activity": "\(key.activity)", "window": "\(window.start.iso8601)"]
        if let runID { meta["runId"] = "\(runID)" }
        return meta.merging(extra) { $1 }
    }
}
