import ArgumentParser
import Dispatch
import Foundation
import Logging
import RefitWorker

/// `refit run`: the long-running worker. SIGTERM/SIGINT stop it gracefully (no new claims,
/// running attempts get a grace period, leases are released) and it exits 0. SIGHUP reloads
/// the definitions (invalid ones are logged and change nothing).
struct RunWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker until SIGTERM or SIGINT; SIGHUP reloads the definitions.")

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption

    @OptionGroup var options: WorkerOptions

    /// Short leases let a crash test see a killed worker's windows recovered within seconds;
    /// a daemon keeps the default.
    @Option(name: .customLong("lease-seconds"),
            help: ArgumentHelp("How long a claim stays valid without renewal; renewed every fifth of it.", visibility: .hidden))
    var leaseSeconds: Int = 300

    func validate() throws {
        guard leaseSeconds >= 2 else { throw ValidationError("--lease-seconds must be at least 2.") }
    }

    func run() throws {
        Console.logFormat = options.logFormat
        let factory = try definitions.loadFactory(logFormat: options.logFormat)
        let store = try database.open()
        let worker = try WorkerSetup.make(factory: factory, store: store, schedulesDirectory: definitions.schedules, maxParallel: options.maxParallel, logFormat: options.logFormat,
                                         leaseSeconds: Int64(leaseSeconds))
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { Task { await worker.stop() } }
            source.resume()
            sources.append(source)
        }
        let logger = Logger(label: "refit.worker")
        let schedules = definitions
        signal(SIGHUP, SIG_IGN)
        let hangUp = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangUp.setEventHandler { Task { await WorkerSetup.reload(worker, schedules: schedules, store: store, logger: logger) } }
        hangUp.resume()
        sources.append(hangUp)
        let wakeUps = FileShareWakeUps(factory: factory, schedulesDirectory: definitions.schedules)
        try runBlocking { await worker.run(wakeUps: wakeUps.stream) }
        wakeUps.stop()
        sources.forEach { $0.cancel() }
    }
}
