import ArgumentParser
import Dispatch
import Foundation
import Logging
import RefitStore
import RefitWorker

/// `refit run`: the long-running worker. SIGTERM/SIGINT stop it gracefully (no new claims,
/// running attempts get a grace period, leases are released) and it exits 0. SIGHUP reloads
/// the definitions (invalid ones are logged and change nothing).
struct RunWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker until SIGTERM or SIGINT; SIGHUP reloads the definitions.")

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption

    @OptionGroup var options: WorkerOptions

    /// A live worker renews its leases every heartbeat; a worker on another host recovers a dead
    /// one's windows once its lease expires (a worker on the same host does at once).
    @Option(name: .customLong("lease-seconds"),
            help: "How long a claim stays valid without renewal; a dead worker on another host is recovered after this.")
    var leaseSeconds: Int = 30

    @Option(name: .customLong("heartbeat-seconds"),
            help: "How often running attempts renew their leases (default 10, or a third of a shorter lease; at most half the lease).")
    var heartbeat: Int?

    var heartbeatSeconds: Int { heartbeat ?? max(1, min(10, leaseSeconds / 3)) }

    func validate() throws {
        guard leaseSeconds >= 2 else { throw ValidationError("--lease-seconds must be at least 2.") }
        guard heartbeatSeconds >= 1, heartbeatSeconds * 2 <= leaseSeconds else {
            throw ValidationError("--heartbeat-seconds must be at least 1 and at most half of --lease-seconds.")
        }
    }

    func run() async throws {
        Console.logFormat = options.logFormat
        let factory = try definitions.loadFactory(logFormat: options.logFormat)
        let store = try database.openWorker()
        defer { store.close() }
        let worker = try WorkerSetup.make(factory: factory, database: store, schedulesDirectory: definitions.schedules, maxParallel: options.maxParallel, logFormat: options.logFormat,
                                         leaseSeconds: Int64(leaseSeconds), heartbeatSeconds: Int64(heartbeatSeconds))
        let shutdown = ShutdownSignals(worker: worker)
        var sources: [any DispatchSourceSignal] = []
        let logger = Logger(label: "refit.worker")
        let schedules = definitions
        signal(SIGHUP, SIG_IGN)
        let hangUp = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangUp.setEventHandler { Task { await WorkerSetup.reload(worker, schedules: schedules, database: store, logger: logger) } }
        hangUp.resume()
        sources.append(hangUp)
        let wakeUps = FileShareWakeUps(factory: factory, schedulesDirectory: definitions.schedules)
        await worker.run(wakeUps: wakeUps.stream)
        wakeUps.stop()
        sources.forEach { $0.cancel() }
        shutdown.cancel()
    }
}
