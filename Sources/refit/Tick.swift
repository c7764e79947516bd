import ArgumentParser
import Foundation
import RefitCore
import RefitStore
import RefitWorker

/// `refit tick`: one scheduling pass for cron. Failed windows are data (see `refit history`),
/// so they do not change the exit code; only a Refit that cannot work does.
struct Tick: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one scheduling pass: start every runnable window, wait for those attempts, exit.",
        discussion: """
            Ends with one summary line on stderr (a JSON object under --log-format json): attempts started and how \
            they ended, windows created, data checks, and windows still waiting. Exit code 0 even when windows \
            failed; non-zero only for bad definitions (1) or an unusable database (3).
            """)

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption

    @OptionGroup var options: WorkerOptions

    func run() throws {
        Console.logFormat = options.logFormat
        let factory = try definitions.loadFactory(logFormat: options.logFormat)
        let store = try database.open()
        let worker = try WorkerSetup.make(factory: factory, store: store, schedulesDirectory: definitions.schedules, maxParallel: options.maxParallel, logFormat: options.logFormat)
        let report: TickReport
        let summary: TickSummary
        do {
            report = try runBlocking { try await worker.tickAndWait() }
            summary = try TickSummary(report: report, store: store, pipelines: factory.pipelines.keys.sorted())
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        switch options.logFormat {
        case .text: Console.error(summary.sentence)
        case .json: JSONLogHandler.write(level: "info", label: "refit.tick", message: summary.sentence, fields: summary.fields)
        }
    }
}
