import Foundation

/// How an emulator instance runs: address, persistence, timings and faults.
public struct MLSimConfiguration: Sendable {
    /// Interface to bind; loopback by default so the emulator is never exposed.
    public var host: String
    /// 0 picks a free port; the real one is in `InstanceInfo.baseURL`.
    public var port: Int
    /// Keeps blobs (`<state>/blobs`), models, jobs, keys (the storage account key too) and the operations log
    /// across restarts; nil keeps all in memory.
    public var stateDirectory: URL?
    /// Time a started job stays `Running` before training runs.
    public var jobDuration: Duration
    /// Time between an accepted PATCH and the endpoint scoring with the new model.
    public var propagationDelay: Duration
    /// Faults to inject from the start (also changeable through `/admin/faults`).
    public var faults: FaultSettings
    /// Seeds ids, keys and rate-based faults; nil picks a random seed.
    public var seed: UInt64?
    /// Source of "now" for job timestamps and propagation; tests pass a manual clock. (Blob SAS tokens and
    /// Shared Key dates use the real clock, as Azure clients sign with it.)
    public var now: @Sendable () -> Date

    public init(host: String = "127.0.0.1", port: Int = 0, stateDirectory: URL? = nil,
                jobDuration: Duration = .seconds(1), propagationDelay: Duration = .zero,
                faults: FaultSettings = FaultSettings(), seed: UInt64? = nil,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.host = host
        self.port = port
        self.stateDirectory = stateDirectory
        self.jobDuration = jobDuration
        self.propagationDelay = propagationDelay
        self.faults = faults
        self.seed = seed
        self.now = now
    }
}
