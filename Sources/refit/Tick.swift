import ArgumentParser
import Foundation
import RefitStore
import RefitWorker

/// `refit tick`: one scheduling pass for cron. Failed windows are data (see `refit history`),
/// so they do not change the exit code; only a Refit that cannot work does.
struct Tick: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one scheduling pass: start every runnable window, wait for those attempts, exit.",
        discussion: "Exit code 0 even when windows failed; non-zero only for bad definitions (1) or an unusable database (3).")

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption

    @OptionGroup var options: WorkerOptions

    func run() throws {
        let factory = try definitions.loadFactory()
        let store = try database.open()
        let worker = try WorkerSetup.make(factory: factory, store: store, schedulesDirectory: definitions.schedules, maxParallel: options.maxParallel, logFormat: options.logFormat)
        let report: TickReport
        do {
            report = try runBlocking { try await worker.tickUntilIdle() }
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        Console.error("refit tick: \(report.started.count) attempt\(report.started.count == 1 ? "" : "s") started, "
                      + "\(report.materialized) window\(report.materialized == 1 ? "" : "s") created, \(report.checks) data check\(report.checks == 1 ? "" : "s").")
    }
}
