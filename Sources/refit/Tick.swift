import ArgumentParser
import Foundation
import RefitCore
import RefitRuntime
import RefitStore
import RefitWorker
import UnixSignals

/// `refit tick`: scheduling passes for cron. It keeps starting work that became runnable because
/// of work it finished (an update after its retrain, an immediate retry), until nothing is
/// runnable now, then exits; `--once` makes it a single pass. Failed windows are data (see
/// `refit history`), so they do not change the exit code; only a Refit that cannot work does.
/// SIGTERM or SIGINT stop it like `run`: no new claims, running attempts get the grace period,
/// then are given back; a second SIGINT gives them back at once.
struct Tick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tick",
        abstract: "Start every runnable window, and what becomes runnable as they finish; wait for them; exit.",
        discussion: """
            Ends with one summary line on stderr (a JSON object under --log-format json): attempts started and how \
            they ended, windows created, data checks, and windows still waiting. Exit code 0 even when windows \
            failed; non-zero only for bad definitions (1) or an unusable database (3). SIGTERM/SIGINT stop claiming \
            and let running attempts finish within the grace period; a second SIGINT gives them back at once.
            """)

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption

    @OptionGroup var options: WorkerOptions

    @Flag(help: "One pass only: start what is runnable now and wait for it; work it makes runnable waits for the next tick.")
    var once = false

    func run() async throws {
        Console.logFormat = options.logFormat
        let (factory, store) = try await database.openWorker(loading: definitions, logFormat: options.logFormat)
        defer { store.close() }
        let worker = try WorkerSetup.make(factory: factory, database: store, schedulesDirectory: definitions.schedules, maxParallel: options.maxParallel, logFormat: options.logFormat)
        let signals = await ShutdownSignals(worker: worker)
        defer { signals.cancel() }
        let report: TickReport
        let once = self.once
        let summary: TickSummary
        // Listed by `refit status` while it works (from its first claim, or after a heartbeat
        // interval of probing), then marked stopped however the passes ended; a tick that finds
        // nothing to do writes nothing.
        await worker.register(as: .tick, timing: .beforeFirstClaim)
        let passes: Result<TickReport, any Error>
        do { passes = .success(once ? try await worker.tickAndWait() : try await worker.tickUntilIdle()) } catch { passes = .failure(error) }
        await worker.markStopped()
        do {
            report = try passes.get()
            summary = try TickSummary(report: report, database: store, pipelines: factory.pipelines.keys.sorted())
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        switch options.logFormat {
        case .text: Console.error(summary.sentence)
        case .json: JSONLogHandler.write(level: "info", label: "refit.tick", message: summary.sentence, fields: summary.fields)
        }
    }
}

/// SIGTERM and SIGINT for `tick` and `backfill --wait`, read through swift-service-lifecycle's
/// `UnixSignalsSequence` like `refit run`'s group: the first stops the worker gracefully, a
/// second SIGINT stops it at once (running attempts are canceled and give their windows back).
final class ShutdownSignals: Sendable {
    private let task: Task<Void, Never>

    init(worker: Worker) async {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        task = Task {
            var interrupts = 0
            for await signal in signals {
                if signal == .sigint { interrupts += 1 }
                if interrupts > 1 { await worker.stopNow() } else { await worker.stop() }
            }
        }
    }

    func cancel() { task.cancel() }
}
