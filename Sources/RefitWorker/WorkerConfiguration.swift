import RefitCore

/// Finds the storage location of an external dataset (local folder, S3, Azure Blob). nil when
/// no probe exists for its kind: its slices then fail their checks with a clear message.
public typealias StorageLocationProvider = @Sendable (Dataset) -> (any StorageLocation)?

/// How one worker process behaves. The defaults suit a daemon; tests shorten nothing but the
/// clock (everything time-dependent goes through the injected `WallClock`: now, deadlines, sleeps).
public struct WorkerConfiguration: Sendable {
    /// Names this worker in leases and `runs.worker_id`; unique per process.
    public var workerID: String
    /// How long a claim stays valid without renewal; a dead worker's windows are recovered
    /// this long after its last renewal.
    public var leaseDuration: TimeSpan
    /// How often a running attempt renews its lease (well below `leaseDuration`).
    public var leaseRenewalInterval: TimeSpan
    /// How often a running attempt looks for an operator's cancel request (`refit cancel`).
    public var cancelPollInterval: TimeSpan
    /// How often a sleeping worker looks whether another process changed the database (an
    /// operator's rerun, backfill, pause or cancel; data another worker found): it then runs a
    /// pass at once instead of sleeping on.
    public var changePollInterval: TimeSpan
    /// Attempts this worker runs at once (`--max-parallel`), on top of per-activity concurrency.
    public var maxParallel: Int
    /// On stop, how long running attempts may continue before they are canceled and released.
    public var gracePeriod: TimeSpan
    /// At most this many windows are created per activity per tick (a huge backfill is
    /// materialized over several ticks, each short).
    public var materializationBatch: Int
    /// The longest the run loop sleeps without a reason (a safety net, not a poll interval).
    public var maximumSleep: TimeSpan
    /// Changed-data detection: external slices that became Ready within this span before now are
    /// looked at again, and marked changed when their data differs from what they were Ready
    /// with. Zero turns detection off.
    public var dataChangeHorizon: TimeSpan
    /// How often `refit run` sweeps the horizon (FileShare data is also swept when a watched
    /// folder changes). `refit tick` sweeps once per invocation.
    public var dataVerifyInterval: TimeSpan
    /// sha256 of each pipeline's definition (pipeline name → hex), recorded on every run.
    /// Pipelines without one get a hash of their resolved model.
    public var definitionSHA256: [String: String]
    /// Where attempts, checks, deployments and passes are counted (swift-metrics).
    public var metrics: WorkerMetrics

    public init(workerID: String, leaseDuration: TimeSpan = TimeSpan(seconds: 30), leaseRenewalInterval: TimeSpan = TimeSpan(seconds: 10),
                cancelPollInterval: TimeSpan = TimeSpan(seconds: 1), changePollInterval: TimeSpan = TimeSpan(seconds: 1),
                maxParallel: Int = 8, gracePeriod: TimeSpan = TimeSpan(seconds: 30), materializationBatch: Int = 5_000,
                maximumSleep: TimeSpan = .minutes(10), dataChangeHorizon: TimeSpan = TimeSpan(seconds: 7 * 86_400),
                dataVerifyInterval: TimeSpan = .minutes(15), definitionSHA256: [String: String] = [:],
                metrics: WorkerMetrics = WorkerMetrics()) {
        self.workerID = workerID; self.leaseDuration = leaseDuration; self.leaseRenewalInterval = leaseRenewalInterval
        self.cancelPollInterval = cancelPollInterval; self.changePollInterval = changePollInterval
        self.maxParallel = max(1, maxParallel); self.gracePeriod = gracePeriod
        self.materializationBatch = max(1, materializationBatch); self.maximumSleep = maximumSleep
        self.dataChangeHorizon = dataChangeHorizon; self.dataVerifyInterval = dataVerifyInterval
        self.definitionSHA256 = definitionSHA256
        self.metrics = metrics
    }
}

/// What one scheduling pass did.
public struct TickReport: Sendable {
    /// Attempts started by this pass, in start order.
    public var started: [StartedAttempt]
    /// Windows created.
    public var materialized: Int
    /// External slice checks made.
    public var checks: Int
    /// Windows recovered from expired leases.
    public var recovered: Int
}

/// An attempt the worker started.
public struct StartedAttempt: Hashable, Sendable {
    public var runID: String
    public var pipeline: String
    public var activity: String
    public var window: Slice
    public var attempt: Int
    public var trigger: RunTrigger
}
