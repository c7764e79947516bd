/// The worker processes of every host, as `refit status` lists them: each registers when it
/// starts, heartbeats while it lives and says when it stopped gracefully. Separate from leases,
/// which only name workers that hold a window right now.
///
/// Every `SchedulingStore` is one (SQLite, PostgreSQL, in memory); the conformance suite checks
/// them alike. On PostgreSQL the times are the server's clock (`clock_timestamp()`) when leases
/// are, so hosts with skewed clocks still compare heartbeats fairly.
public protocol WorkerRegistry: Sendable {
    /// Records that `worker` started (or started again under the same id), clearing any stop,
    /// and deletes the rows of workers stopped or silent for longer than `WorkerRegistration.retention`
    /// before `now`.
    func registerWorker(_ worker: WorkerRegistration, now: Instant) async throws

    /// Stamps the worker's last heartbeat with `now`, in one upsert (a row deleted meanwhile
    /// comes back). Never wakes other workers.
    func heartbeatWorker(_ worker: WorkerRegistration, now: Instant) async throws

    /// Records that the worker stopped gracefully at `now` (also its last heartbeat).
    func markWorkerStopped(workerID: String, now: Instant) async throws

    /// Every registered worker, oldest start first.
    func registeredWorkers() async throws -> [WorkerRecord]
}

/// What a worker says about itself when it registers and heartbeats.
public struct WorkerRegistration: Hashable, Sendable {
    /// `host:pid:start-nonce`, the name leases and runs carry.
    public var workerID: String
    public var host: String
    public var pid: Int64
    public var command: WorkerCommand
    /// How often it heartbeats: status calls it silent after three of these (at least 30 s).
    public var heartbeatInterval: TimeSpan

    /// Stopped or silent workers' rows are deleted this long after their last heartbeat.
    public static let retention = TimeSpan.days(7)

    public init(workerID: String, host: String, pid: Int64, command: WorkerCommand, heartbeatInterval: TimeSpan) {
        self.workerID = workerID; self.host = host; self.pid = pid; self.command = command
        self.heartbeatInterval = TimeSpan(seconds: max(1, heartbeatInterval.seconds))
    }
}

/// The kind of process a worker is.
public enum WorkerCommand: String, Hashable, Sendable, CaseIterable {
    /// `refit run`, the daemon.
    case run
    /// `refit tick` (or `backfill --wait`): passes until idle, then exit.
    case tick
}

/// One registered worker, as a store holds it.
public struct WorkerRecord: Hashable, Sendable {
    public var workerID: String
    public var host: String
    public var pid: Int64
    public var command: WorkerCommand
    public var heartbeatInterval: TimeSpan
    public var startedAt: Instant
    public var lastHeartbeatAt: Instant
    public var stoppedAt: Instant?

    public init(workerID: String, host: String, pid: Int64, command: WorkerCommand, heartbeatInterval: TimeSpan, startedAt: Instant,
                lastHeartbeatAt: Instant, stoppedAt: Instant?) {
        self.workerID = workerID; self.host = host; self.pid = pid; self.command = command
        self.heartbeatInterval = heartbeatInterval; self.startedAt = startedAt; self.lastHeartbeatAt = lastHeartbeatAt
        self.stoppedAt = stoppedAt
    }

    /// How a worker looks at `now` (on the clock its heartbeats were stamped with).
    public enum State: String, Hashable, Sendable {
        /// Heartbeat within three intervals (at least 30 s).
        case running
        /// No heartbeat for longer: killed, hung, or cut off from the database.
        case silent
        /// Ended gracefully.
        case stopped
    }

    /// How long without a heartbeat before a worker counts as silent.
    public var silentAfter: TimeSpan { TimeSpan(seconds: max(30, 3 * heartbeatInterval.seconds)) }

    public func state(at now: Instant) -> State {
        if stoppedAt != nil { return .stopped }
        return now - lastHeartbeatAt <= silentAfter ? .running : .silent
    }
}
