import Foundation
import RefitCore
import RefitRuntime
import RefitStore
import RefitWorker

/// `refit backfill --wait`: runs a worker in this process (it claims like any other, so a
/// `refit run` elsewhere shares the work) and polls the backfill's progress from the database
/// about every second until each of its windows is Ready, Skipped or Failed; then stops the
/// worker. Progress goes to stderr: a bar redrawn in place on a terminal, a plain line every few
/// seconds otherwise (logs and CI). SIGTERM/SIGINT stop the worker as they stop `refit run`, and
/// the wait ends with what is done so far.
struct BackfillWait {
    let id: Int64
    let store: any OperatorStore
    let worker: Worker

    /// Seconds between plain progress lines when stderr is not a terminal.
    static let plainInterval: TimeInterval = 3

    func run() throws -> BackfillRecord {
        let id = self.id, store = self.store, worker = self.worker
        let started = Date()
        let (final, interrupted) = try OperatorInput.perform { () async throws -> (BackfillRecord, Bool) in
            let signals = await ShutdownSignals(worker: worker)
            defer { signals.cancel() }
            let stopped = StoppedFlag()
            let running = Task {
                await worker.run()
                stopped.set()
            }
            var reporter = ProgressReporter(id: id, started: started, terminal: isatty(2) == 1)
            var record: BackfillRecord?
            while true {
                guard let current = try await store.backfill(id: id) else { break }
                record = current
                reporter.report(current.progress)
                if current.progress.isFinished || stopped.isSet { break }
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
            await worker.stop()
            await running.value
            guard let last = try await store.backfill(id: id) ?? record else {
                throw CLIFailure.internal("The backfill \(id) disappeared from the database.")
            }
            reporter.finish()
            return (last, !last.progress.isFinished)
        }
        let p = final.progress
        let seconds = Int(Date().timeIntervalSince(started).rounded())
        if interrupted {
            Console.error("backfill \(id) interrupted after \(seconds)s: \(p.done)/\(p.total) done, \(p.failed) failed, "
                          + "\(p.total - p.done - p.failed) not finished; any worker (refit run or tick) finishes them.")
        } else {
            Console.error("backfill \(id) finished in \(seconds)s: \(p.done)/\(p.total) Ready or Skipped, \(p.failed) Failed"
                          + (p.failed > 0 ? " (see `refit history --status Failed`)." : "."))
        }
        return final
    }

    /// Set once the worker's run loop has returned (a signal stopped it).
    private final class StoppedFlag: @unchecked Sendable {
        // Guarded by `lock`.
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    /// Renders progress with done/total, running, failed, rate and ETA.
    struct ProgressReporter {
        let id: Int64
        let started: Date
        let terminal: Bool
        private var firstTerminal: Int?
        private var lastLine: Date?
        private var drawn = false

        init(id: Int64, started: Date, terminal: Bool) { self.id = id; self.started = started; self.terminal = terminal }

        mutating func report(_ p: BackfillProgress) {
            let finished = p.done + p.failed
            if firstTerminal == nil { firstTerminal = finished }
            let elapsed = max(Date().timeIntervalSince(started), 0.001)
            let rate = Double(finished - (firstTerminal ?? 0)) / elapsed
            let remaining = p.total - finished
            let eta = rate > 0 ? "\(Int((Double(remaining) / rate).rounded()))s" : "?"
            let text = "backfill \(id): \(p.done)/\(p.total) done, \(p.running) running, \(p.failed) failed, "
                + String(format: "%.1f/s", rate) + ", ETA \(eta)"
            if terminal {
                let width = 24
                let filled = p.total == 0 ? width : width * finished / p.total
                let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(text)".utf8))
                drawn = true
            } else if lastLine.map({ Date().timeIntervalSince($0) >= BackfillWait.plainInterval }) ?? true {
                Console.error(text)
                lastLine = Date()
            }
        }

        /// Ends the redrawn line so the summary starts on its own.
        func finish() {
            if terminal && drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }
}
