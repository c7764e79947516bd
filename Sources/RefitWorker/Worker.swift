import Foundation
import Logging
import RefitCore

/// The engine, as orchestration. One pass: recover expired leases,
/// honour pauses, materialize the windows that came due, resolve the inputs of new windows,
/// probe the external slices whose check is due, then claim a page of the best runnable
/// windows up to the free capacity and start their attempts. `run` repeats passes, sleeping
/// until the next thing is due or something wakes it (an attempt finished, data landed, an
/// operator acted).
///
/// A pass costs what changed, not the backlog: the store keeps each window's count of missing
/// inputs up to date as slices become Ready, so runnable windows are read a page at a time and
/// nothing is re-evaluated per pass. This file is the orchestration (the pass, `tick`, the run
/// loop and its sleeps); each step lives in its own file: readiness — materialization and input
/// resolution (`Worker+Readiness`, `InputResolver`); external-data checking
/// (`Worker+ExternalData`, `ExternalDataChecker`); dispatch and pauses (`Worker+Dispatch`);
/// attempt supervision and recovery (`Worker+Attempts`); the worker registry
/// (`Worker+Registry`); reruns (`Worker+Reruns`).
///
/// Attempts are structured: each runs as a child task of a task group owned by the call that
/// drives the passes (`tickAndWait`, `tickUntilIdle`, `run`), so none outlives it — a shutdown
/// drains them, cancels what the grace period leaves, and returns only once each has recorded
/// its end or released its lease.
///
/// Several workers (processes) may share one database: claims are conditional, so no window is
/// ever run by two of them at once.
public actor Worker {
    public nonisolated let configuration: WorkerConfiguration
    var factory: Factory
    let store: any SchedulingStore
    let runner: any ActivityRunner
    var locations: StorageLocationProvider
    /// Each pipeline's definition hash, named by every run (from the configuration, then reloads).
    var definitionHashes: [String: String]
    /// Now, and every deadline and sleep of the worker and of its attempts.
    let clock: any WallClock
    let logger: Logger

    var running: [String: RunningAttempt] = [:]
    var stopping = false
    /// The run loop's sleep and the wakes that end it early.
    private var loopWake = LoopWake()
    /// Set by `storageChanged()`: the next pass re-checks waiting FileShare slices early, and
    /// looks at the Ready FileShare slices within the change horizon again.
    var recheckWaitingData = false
    /// When the last changed-data sweep of every external dataset ran (nil: not yet).
    var lastDataSweepAt: Instant?
    /// When the last sweep of the FileShare datasets after a storage change ran, and whether a
    /// change is still waiting for one (they are at most `fileShareSweepSpacing` apart).
    var lastFileShareSweepAt: Instant?
    var fileShareSweepPending = false
    static let fileShareSweepSpacing = TimeSpan(seconds: 5)
    /// The pause state last applied to each pipeline's labels (applied again only on change).
    var appliedPause: [String: Bool] = [:]
    /// The clock time of the last full pass (a window due after it was not seen by it).
    private var lastPassAt: Instant?
    /// Whether the next pass must be a full one: set by anything but an attempt finishing (a
    /// timer, another process's change, new data, an operator, a reload); see `passBody`.
    private var fullPassDue = true
    /// Whether the last pass was a full one (`tick` is idle only after one).
    private var lastPassWasFull = false
    /// After attempts finish, passes only dispatch until this long after the last full pass.
    static let fullPassSpacing = TimeSpan(seconds: 1)
    /// When each capped activity's waiting windows were last labelled ConcurrencyLimit.
    var labelledAt: [ActivityKey: Instant] = [:]
    /// The highest watermark this worker has read or written per activity. Watermarks only move
    /// forward, so this is a lower bound of the store's: when it leaves no window due, neither
    /// does the store's, and working out the next wake-up need not ask (see `nextWakeTime`).
    var knownWatermarks: [ActivityKey: Instant] = [:]
    /// The paused pipelines the last pass used, for the wake-up worked out right after it.
    private var pausedAtLastPass: Set<String>?
    /// Callers of `waitForProgress()`, resumed when an attempt finishes.
    private var progressWaiters: [CheckedContinuation<Void, Never>] = []
    /// Attempts finished so far (so a waiter does not miss one that ended before it waited).
    private var finishedCount = 0
    /// How the run loop is doing (`/healthz`).
    public private(set) var health = WorkerHealth()
    /// Scheduling passes that failed in a row (a database that does not answer).
    private var failedPasses = 0
    /// How long the run loop waits before trying a pass again after `failedPasses` failures.
    private var retryPause: TimeSpan { TimeSpan(seconds: min(30, Int64(1) << min(5, max(0, failedPasses - 1)))) }
    /// What this process registered as (`refit status` lists it); nil before `register(as:)`
    /// and after `markStopped()`.
    var registration: WorkerRegistration?
    /// A registration deferred by `.beforeFirstClaim`, with when it was asked for.
    var pendingRegistration: (WorkerRegistration, Instant)?
    /// When the last heartbeat was written (a clock instant), so heartbeats stay an interval apart.
    var lastHeartbeatAt: Instant?

    struct RunningAttempt {
        var claim: ClaimedAttempt
    }
    /// Attempts a pass claimed, waiting to become child tasks of the attempt group that the
    /// caller of the pass (`tickAndWait`, `tickUntilIdle`, `run`) owns.
    var claimed: [(ClaimedAttempt, AttemptContext)] = []
    /// `stopNow()`: running attempts are canceled at once rather than after the grace period.
    private var stopImmediately = false
    /// Set when the grace period of a `drain` is over.
    private var graceOver = false

    public init(factory: Factory, store: any SchedulingStore, runner: any ActivityRunner, locations: @escaping StorageLocationProvider,
                clock: any WallClock = SystemWallClock(),
                configuration: WorkerConfiguration, logger: Logger = Logger(label: "refit.worker")) {
        self.factory = factory
        self.store = store
        self.runner = runner
        self.locations = locations
        self.definitionHashes = configuration.definitionSHA256
        self.clock = clock
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.workerID)"
        self.logger = logger
    }

    /// Attempts this worker is running now.
    public var runningCount: Int { running.count }

    // MARK: One pass

    /// One pass, timed for the metrics and recorded for the health check (`/healthz`).
    private func pass() async throws -> TickReport {
        let began = ContinuousClock.now
        await heartbeatIfDue()
        do {
            let report = try await passBody()
            configuration.metrics.pass(duration: ContinuousClock.now - began)
            health.lastPassEndedAt = ContinuousClock.now
            health.lastBeatAt = health.lastPassEndedAt
            health.lastPassError = nil
            return report
        } catch {
            configuration.metrics.pass(duration: ContinuousClock.now - began)
            health.lastPassError = "\(error)"
            throw error
        }
    }

    /// One scheduling pass at the clock's current time. Returns what it claimed; the claimed
    /// attempts wait in `claimed` until the caller starts them in its attempt group.
    private func passBody() async throws -> TickReport {
        let now = clock.now()
        // Woken only because attempts finished: their ends already made their consumers and
        // retries runnable in the store, so the pass only dispatches (a page of candidates and
        // the claims). Recovery, materialization, input resolution and data checks depend on
        // time or on other processes, and run in a full pass at least every `fullPassSpacing`.
        pausedAtLastPass = nil
        if !fullPassDue, let last = lastPassAt, now >= last, now < last + Self.fullPassSpacing {
            lastPassWasFull = false
            let paused = try await pausedPipelines()
            pausedAtLastPass = paused
            let started = try await dispatch(now: now, paused: paused)
            return TickReport(started: started, materialized: 0, checks: 0, recovered: 0)
        }
        fullPassDue = false
        lastPassWasFull = true
        lastPassAt = now
        let recovered = try await recoverAbandonedAttempts(now: now)
        let paused = try await applyPauses(now: now)
        pausedAtLastPass = paused
        let materialized = try await materializeDue(excluding: paused, now: now)
        guard !stopping else { return TickReport(started: [], materialized: materialized, checks: 0, recovered: recovered) }
        try await resolveInputs(now: now)
        let checks = try await checkExternalData(now: now)
        let started = try await dispatch(now: clock.now(), paused: paused)
        return TickReport(started: started, materialized: materialized, checks: checks, recovered: recovered)
    }

    /// One pass, then wait until every attempt it started has finished. A pass that fails part
    /// way (database busy or full) may already have claimed attempts: they run and record their
    /// outcomes before the failure is reported.
    @discardableResult
    public func tickAndWait() async throws -> TickReport {
        fullPassDue = true
        let result: Result<TickReport, any Error> = await withDiscardingTaskGroup { group in
            let result: Result<TickReport, any Error>
            do { result = .success(try await pass()) } catch { result = .failure(error) }
            startClaimed(in: &group)
            return result
        }
        return try result.get()
    }

    /// Starts the attempts the last pass claimed as child tasks of `group`: attempts are always
    /// children of a task group that the worker's caller owns, and end before it returns.
    private func startClaimed(in group: inout DiscardingTaskGroup) {
        let attempts = claimed
        claimed = []
        for (claim, context) in attempts {
            group.addTask { await self.execute(claim, context) }
        }
    }

    /// `refit tick`: passes until nothing is runnable now and nothing runs. Work that becomes
    /// runnable because of work this call finished (an update after its retrain, an immediate
    /// retry) starts in the same invocation, as soon as a slot frees. Returns the sum of the
    /// passes' reports.
    @discardableResult
    public func tickUntilIdle() async throws -> TickReport {
        fullPassDue = true
        let result: Result<TickReport, any Error> = await withDiscardingTaskGroup { group in
            var total = TickReport(started: [], materialized: 0, checks: 0, recovered: 0)
            do {
                while !stopping {
                    let finishedBefore = finishedCount
                    let report = try await pass()
                    startClaimed(in: &group)
                    total.started += report.started
                    total.materialized += report.materialized
                    total.checks += report.checks
                    total.recovered += report.recovered
                    // Done when the pass started nothing, nothing runs, and nothing finished while
                    // the pass looked (an attempt ending mid-pass may have made work runnable it missed).
                    if running.isEmpty && report.started.isEmpty && finishedCount == finishedBefore {
                        // Idle is decided by a full pass (a dispatch-only one does not check data).
                        if lastPassWasFull { break }
                        fullPassDue = true
                        continue
                    }
                    if !running.isEmpty { await waitForProgress(since: finishedBefore) }
                }
            } catch {
                // Attempts already started finish and record their outcomes (the group waits).
                startClaimed(in: &group)
                return .failure(error)
            }
            await drain(&group)
            return .success(total)
        }
        return try result.get()
    }

    /// Suspends until some running attempt finishes after the `since`-th finish (at once when
    /// one already did, or none runs).
    func waitForProgress(since: Int) async {
        guard !running.isEmpty, finishedCount == since, !stopping else { return }
        await withCheckedContinuation { progressWaiters.append($0) }
    }

    /// An attempt finished: wake the run loop (for a dispatch-only pass, see `passBody`) and
    /// whoever waits for progress.
    func attemptEnded() {
        finishedCount += 1
        let waiters = progressWaiters
        progressWaiters = []
        waiters.forEach { $0.resume() }
        wakeLoop()
    }

    // MARK: The daemon

    /// Runs passes until `stop()`: after each pass it sleeps until the next window is due, a
    /// retry delay or external check comes up, or another worker's lease expires — or until
    /// woken early by `wakeUps` (storage change notifications, e.g. a file system watcher:
    /// each one is `storageChanged()`) or by an attempt finishing. Then it stops claiming, lets
    /// running attempts finish within the grace period, and releases the leases of those that
    /// did not.
    public func run(wakeUps: AsyncStream<Void>? = nil) async {
        fullPassDue = true
        logger.info("worker started")
        health.running = true
        health.lastBeatAt = ContinuousClock.now
        defer { health.running = false }
        await register(as: .run)
        await withDiscardingTaskGroup { group in
            if let wakeUps {
                // Storage notifications, a child like the attempts: it ends when the group is
                // canceled at the end (an AsyncStream's iteration ends on cancellation).
                group.addTask {
                    for await _ in wakeUps { await self.storageChanged() }
                }
            }
            await runLoop(&group)
            await drain(&group)
            group.cancelAll()
        }
        await markStopped()
        logger.info("worker stopped")
    }

    private func runLoop(_ group: inout DiscardingTaskGroup) async {
        while !stopping {
            do {
                defer { startClaimed(in: &group) }
                let report = try await pass()
                if !report.started.isEmpty || report.materialized > 0 || report.recovered > 0 {
                    logger.debug("tick", metadata: ["started": "\(report.started.count)", "materialized": "\(report.materialized)",
                                                    "checks": "\(report.checks)", "recovered": "\(report.recovered)"])
                }
                failedPasses = 0
            } catch {
                // The next pass comes after a pause that doubles with each failure in a row (1 s …
                // 30 s), whatever else is due: a database that went away (a server restart, a
                // network cut) is tried again soon, but not hammered.
                failedPasses += 1
                fullPassDue = true
                logger.error("scheduling pass failed; retrying after a pause",
                             metadata: ["error": "\(error)", "retryInSeconds": "\(retryPause.seconds)"])
            }
            if stopping { break }
            // Already woken (an attempt finished meanwhile): no need to work out when to wake.
            // The pass just read which pipelines are paused: a pause committed since only makes
            // this wake-up early, and the next pass reads them again.
            var wakeAt = loopWake.isPending ? clock.now() : await nextWakeTime(paused: pausedAtLastPass)
            if failedPasses > 0 { wakeAt = min(wakeAt, clock.now() + retryPause) }
            if running.isEmpty && !loopWake.isPending {
                logger.info("idle", metadata: ["until": "\(wakeAt.iso8601)"])
            }
            await sleep(until: wakeAt)
        }
    }

    /// Asks `run` (or `tickUntilIdle`) to stop gracefully (SIGTERM/SIGINT): no new claims;
    /// running attempts get `gracePeriod` to finish.
    public func stop() {
        stopping = true
        loopWake.wake()
        let waiters = progressWaiters
        progressWaiters = []
        waiters.forEach { $0.resume() }
    }

    /// Stops at once (a second SIGINT): running attempts are canceled now and give their
    /// windows back.
    public func stopNow() {
        stopImmediately = true
        stop()
    }

    /// Wakes the run loop now for a full pass (new data landed, an operator acted).
    public func wake() {
        fullPassDue = true
        wakeLoop()
    }

    private func wakeLoop() {
        loopWake.wake()
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
    /// Waiting windows of pipelines whose definition changed have their inputs resolved again.
    public func reload(factory: Factory, locations: @escaping StorageLocationProvider, definitionSHA256: [String: String]) async {
        let changed = factory.pipelines.keys.filter { definitionHashes[$0] != definitionSHA256[$0] }.sorted()
        self.factory = factory
        self.locations = locations
        self.definitionHashes = definitionSHA256
        appliedPause = [:]
        for pipeline in changed {
            do {
                _ = try await store.resetInputs(pipeline: pipeline, now: clock.now())
            } catch {
                logger.error("could not reset the inputs of the changed pipeline", metadata: ["pipeline": "\(pipeline)", "error": "\(error)"])
            }
        }
        logger.info("definitions reloaded", metadata: ["pipelines": "\(factory.pipelines.count)", "datasets": "\(factory.datasets.count)"])
        wake()
    }

    /// When the next pass is needed: the earliest of the next window due time, retry time,
    /// external check, or foreign lease expiry; never earlier than a second from now, never
    /// later than `maximumSleep`.
    /// `paused`: the pipelines paused as the caller last read them (nil: read them now).
    public func nextWakeTime(paused: Set<String>? = nil) async -> Instant {
        let now = clock.now()
        var times: [Instant] = [now + configuration.maximumSleep]
        // Windows that came due after the last pass looked: wake for them without the one-second floor.
        var unseen: [Instant] = []
        let paused = if let paused { paused } else { (try? await pausedPipelines()) ?? [] }
        for (pipeline, activity) in activeActivities(excluding: paused) {
            guard let schedule = try? factory.windows(of: activity, in: pipeline) else { continue }
            let key = ActivityKey(pipeline: pipeline.name, activity: activity.name)
            let end = schedule.activeEnd ?? .adfNoEnd
            // Before the first window the watermark is the active start: a window that came due
            // between the pass and now must wake the loop at once, not at the next due time. The
            // store is asked only when the watermark this worker knows leaves a window due (the
            // store's is never lower).
            var pending = knownWatermarks[key].flatMap { schedule.windows(from: $0, to: end, dueBy: now).first }
            if knownWatermarks[key] == nil || pending != nil {
                let stored = (try? await watermark(key)) ?? nil
                pending = schedule.windows(from: stored ?? schedule.activeStart, to: end, dueBy: now).first
            }
            if let pending {
                let due = schedule.dueTime(of: pending)
                times.append(due)
                if let lastPassAt, due > lastPassAt { unseen.append(due) }
            }
            if let next = schedule.nextDue(after: now) { times.append(next.due) }
        }
        if let t = try? await store.nextWakeTime(after: now, workerID: configuration.workerID) { times.append(t) }
        if let t = try? await store.nextCheckTime(datasets: factory.externalDatasetNames) { times.append(t) }
        let earliest = times.min() ?? now + configuration.maximumSleep
        if let first = unseen.min() { return min(first, max(earliest, now + TimeSpan(seconds: 1))) }
        return max(earliest, now + TimeSpan(seconds: 1))
    }

    /// Sleeps until `instant`, a `wake()`, or a change another process committed (looked at every
    /// `changePollInterval`), whichever comes first.
    private func sleep(until instant: Instant) async {
        if loopWake.take() || stopping { return }
        let clock = self.clock
        let token = try? await store.changeToken()
        while !stopping && !loopWake.isPending {
            let until = min(instant, clock.now() + configuration.changePollInterval)
            let task = Task { try await clock.sleep(until: until) }
            loopWake.sleeping(in: task)
            let result = await task.result
            loopWake.awake()
            // Canceled: a `wake()` (which asked for a full pass) or an attempt's end (which did not).
            if case .failure = result { break }
            if clock.now() >= instant { fullPassDue = true; break }
            await heartbeatIfDue()
            guard let now = try? await store.changeToken() else { continue }
            health.lastBeatAt = ContinuousClock.now
            if let token, now != token { fullPassDue = true; break }
        }
        _ = loopWake.take()
    }

    /// After `stop()`: let attempts finish within the grace period (none after `stopNow()`),
    /// then cancel the rest — the children of `group` — which release their leases without
    /// charging the attempt. The group's owner then waits for them to end. The grace timer is a
    /// child of the same group, canceled on the way out.
    func drain(_ group: inout DiscardingTaskGroup) async {
        defer { group.cancelAll() }
        guard !running.isEmpty else { return }
        logger.info("waiting for running attempts to finish", metadata: ["running": "\(running.count)"])
        let deadline = clock.deadline(after: configuration.gracePeriod)
        let clock = self.clock
        graceOver = false
        group.addTask {
            do { try await clock.sleep(until: deadline) } catch { return }
            await self.endGrace()
        }
        while !running.isEmpty && !graceOver && !stopImmediately {
            await withCheckedContinuation { progressWaiters.append($0) }
        }
        if !running.isEmpty {
            logger.warning(stopImmediately ? "stopping now; canceling running attempts" : "grace period over; canceling running attempts",
                           metadata: ["running": "\(running.count)"])
        }
    }

    /// The grace period ended: `drain` cancels what still runs.
    private func endGrace() {
        graceOver = true
        let waiters = progressWaiters
        progressWaiters = []
        waiters.forEach { $0.resume() }
    }

    // MARK: Steps of a pass

    /// The store's watermark of `key`, noted in `knownWatermarks`.
    func watermark(_ key: ActivityKey) async throws -> Instant? {
        let stored = try await store.watermark(key)
        if let stored { noteWatermark(stored, of: key) }
        return stored
    }

    /// Raises the known watermark of `key` to `mark` (never lowers it).
    func noteWatermark(_ mark: Instant, of key: ActivityKey) {
        if let known = knownWatermarks[key], known >= mark { return }
        knownWatermarks[key] = mark
    }

    func pausedPipelines() async throws -> Set<String> {
        var paused = try await store.pausedPipelines()
        for (name, pipeline) in factory.pipelines where pipeline.isPaused { paused.insert(name) }
        return paused
    }

    func activeActivities(excluding paused: Set<String>) -> [(Pipeline, Activity)] {
        factory.pipelines.keys.sorted().compactMap { factory.pipelines[$0] }
            .filter { !paused.contains($0.name) && $0.activePeriod != nil }
            .flatMap { pipeline in pipeline.activities.map { (pipeline, $0) } }
    }

    func budget(for key: ActivityKey) -> RetryBudget { budgets(key) }

    /// Each activity's retry budget under the definitions of now, for the store's recovery.
    var budgets: @Sendable (ActivityKey) -> RetryBudget {
        let factory = self.factory
        return { key in RetryBudget(factory.pipelines[key.pipeline]?.activity(named: key.activity)?.policy ?? ActivityPolicy()) }
    }

    func definitionSHA256(_ pipeline: Pipeline) -> String {
        definitionHashes[pipeline.name] ?? SHA256.hex(String(reflecting: pipeline))
    }

    func metadata(_ key: ActivityKey, _ window: Slice, runID: String? = nil,
                  extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var meta: Logger.Metadata = ["pipeline": "\(key.pipeline)", "activity": "\(key.activity)", "window": "\(window.start.iso8601)"]
        if let runID { meta["runId"] = "\(runID)" }
        return meta.merging(extra) { $1 }
    }
}
