import ArgumentParser
import Foundation
import Logging
import RefitCore
import RefitRuntime
import RefitMetricsServer
import RefitStore
import RefitWorker
import ServiceLifecycle
import UnixSignals

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

    @Option(name: .customLong("metrics-address"),
            help: ArgumentHelp("Serve /metrics, /status and /healthz over HTTP on HOST:PORT (a bare PORT listens on 127.0.0.1); off unless given.",
                               valueName: "address"))
    var metricsAddress: String?

    func validate() throws {
        guard leaseSeconds >= 2 else { throw ValidationError("--lease-seconds must be at least 2.") }
        guard heartbeatSeconds >= 1, heartbeatSeconds * 2 <= leaseSeconds else {
            throw ValidationError("--heartbeat-seconds must be at least 1 and at most half of --lease-seconds.")
        }
    }

    func run() async throws {
        Console.logFormat = options.logFormat
        let address = try metricsAddress.map { text in
            guard let address = MetricsAddress(parsing: text) else {
                throw CLIFailure.invalidInput("The metrics address '\(text)' is not HOST:PORT or PORT (a port from 0 to 65535).")
            }
            return address
        }
        let exposition = address.map { _ in MetricsExposition() }
        exposition?.bootstrap()
        let (factory, store) = try await database.openWorker(loading: definitions, logFormat: options.logFormat)
        defer { store.close() }
        let worker = try WorkerSetup.make(factory: factory, database: store, schedulesDirectory: definitions.schedules, maxParallel: options.maxParallel, logFormat: options.logFormat,
                                         leaseSeconds: Int64(leaseSeconds), heartbeatSeconds: Int64(heartbeatSeconds))
        let logger = Logger(label: "refit.worker")
        let schedules = definitions
        let wakeUps = FileShareWakeUps(factory: factory, schedulesDirectory: definitions.schedules)
        defer { wakeUps.stop() }
        let reload: @Sendable () async -> Void = {
            await WorkerSetup.reload(worker, schedules: schedules, database: store, logger: logger)
        }
        var server: MetricsServer?
        var scrapes: WorkerDatabase?
        if let address, let exposition {
            // Scrapes read through a connection of their own (SQLite read-only, or a second
            // PostgreSQL connection, opened once the worker's has migrated the database), so
            // they never queue behind the worker's.
            let reader = try database.openReader()
            scrapes = reader
            let endpoints = MetricsEndpointsSetup.make(exposition: exposition, worker: worker, scrapes: reader, schedules: definitions,
                                                       startupDefinitions: factory)
            server = MetricsServer(address: address, endpoints: endpoints)
        }
        defer { scrapes?.close() }
        var quiet = logger
        quiet.logLevel = .critical
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: RunServices.configurations(worker: worker, wakeUps: wakeUps, server: server, reload: reload),
            gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet))
        let announce = Task {
            if let server, let address, let port = await server.listening() {
                logger.info("metrics served", metadata: ["address": "http://\(MetricsAddress(host: address.host, port: port))"])
            }
        }
        defer { announce.cancel() }
        do {
            try await group.run()
        } catch let error as MetricsServerError {
            throw CLIFailure.invalidInput(error.message)
        }
    }
}
