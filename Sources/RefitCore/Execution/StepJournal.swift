import Foundation

/// One journaled step of an activity run: what it meant to do (intent, written before the
/// effect) and what happened (result or failure, written after).
///
/// Payloads are flat string maps so they are trivially JSON and never need a schema change;
/// they must never hold secrets (no keys, no SAS signatures).
public struct StepRecord: Hashable, Sendable {
    public enum State: String, Hashable, Sendable { case intent, done, failed }

    /// The run (attempt) that wrote the record.
    public var runID: String
    public var step: String
    public var state: State
    public var intent: [String: String]
    /// The result for `.done`, the failure description for `.failed`, nil for `.intent`.
    public var result: [String: String]?

    public init(runID: String, step: String, state: State, intent: [String: String], result: [String: String]? = nil) {
        self.runID = runID; self.step = step; self.state = state; self.intent = intent; self.result = result
    }

    /// True when the effect may have happened but its outcome was never recorded (a crash
    /// between perform and record).
    public var outcomeUnknown: Bool { state == .intent }
}

/// The durable journal of one run (one attempt of one activity window): intent before effect,
/// result after. Lookups see the whole *window*, so a new attempt after a crash finds what an
/// earlier attempt recorded (a job id to resume instead of resubmitting).
///
/// Methods are synchronous: implementations are an in-memory map or short SQLite transactions.
public protocol StepJournal: Sendable {
    /// The run this journal writes for.
    var runID: String { get }
    /// Records that `step` is about to perform its effect. Re-recording a step of the same run
    /// replaces its record.
    func record(intent: [String: String], step: String) throws
    /// Records that `step` finished with `result`.
    func record(result: [String: String], step: String) throws
    /// Records that `step` failed; `failure` holds a redacted description.
    func record(failure: [String: String], step: String) throws
    /// The latest record of `step` in this run's window: this run's own if it has one, else the
    /// most recent earlier attempt's.
    func lookup(step: String) throws -> StepRecord?
    /// Records that `step` finished with `result`, written in one transaction with this
    /// journal's next write (the next step's intent, a failure) or by `flush()`; lookups see it
    /// at once. For a step that another step follows at once: the result is durable before the
    /// next step's effect, as the journal's rule requires, for one transaction instead of two. A
    /// crash before that write loses the result, as a crash just before `record(result:)` would:
    /// the step's outcome is then unknown and it is done again. Implementations without a cheaper
    /// way write at once (the default).
    func record(laterResult: [String: String], step: String) throws
    /// Records the intent of a step whose effect only reads (a status or an output fetch) or
    /// writes idempotently (the same bytes to a name derived from the window, as input staging
    /// does), written like a later result: with the journal's next write or by `flush()`, in
    /// order with the held results before it. Lookups see it at once. A crash before that write
    /// loses the intent (and any result held with it); the step is then simply done again, which
    /// changes nothing outside. An activity that waits long after such a read (a job still
    /// running) flushes first, so what it did before the wait is on disk during the wait.
    /// Implementations without a cheaper way write at once (the default).
    func record(laterIntent: [String: String], step: String) throws
    /// Writes what `record(laterResult:step:)` and `record(laterIntent:step:)` held and no write
    /// has carried yet: before a wait. An activity that defers a write calls `handOver()` (which
    /// flushes, unless the journal can leave the writes to the attempt's outcome) before it
    /// returns, whether it succeeded or not.
    func flush() throws
    /// The attempt is ending (by success or by an error): what is still held may be written with
    /// the attempt's outcome, in the transaction that records it, instead of in one of its own. A
    /// crash before that transaction loses it, as a crash just before the outcome would lose the
    /// outcome: the attempt runs again and finds the step's intent without its result. Journals
    /// that cannot hand over flush (the default). Activities call this where they end, never
    /// before a wait.
    func handOver() throws
}

extension StepJournal {
    public func record(laterResult: [String: String], step: String) throws {
        try record(result: laterResult, step: step)
    }

    public func record(laterIntent: [String: String], step: String) throws {
        try record(intent: laterIntent, step: step)
    }

    public func flush() throws {}

    public func handOver() throws {
        try flush()
    }
}

/// Journal errors: a step recorded out of order or a storage failure, one sentence.
public struct StepJournalError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A journal in memory, shared by the attempts of one window: for tests and dry runs.
/// Create one per window and derive per-run journals with ``attempt(runID:)``.
public final class InMemoryStepJournal: StepJournal, @unchecked Sendable {
    private final class Shared: @unchecked Sendable {
        let lock = NSLock()
        /// In write order; one entry per (run, step).
        var records: [StepRecord] = []
    }

    public let runID: String
    private let shared: Shared

    public init(runID: String = "run-1") {
        self.runID = runID
        self.shared = Shared()
    }

    private init(runID: String, shared: Shared) {
        self.runID = runID
        self.shared = shared
    }

    /// A journal for another attempt of the same window (sees this one's records).
    public func attempt(runID: String) -> InMemoryStepJournal {
        InMemoryStepJournal(runID: runID, shared: shared)
    }

    /// Every record of the window, oldest first (for tests and `refit show`).
    public var records: [StepRecord] {
        shared.lock.lock(); defer { shared.lock.unlock() }
        return shared.records
    }

    public func record(intent: [String: String], step: String) throws {
        shared.lock.lock(); defer { shared.lock.unlock() }
        shared.records.removeAll { $0.runID == runID && $0.step == step }
        shared.records.append(StepRecord(runID: runID, step: step, state: .intent, intent: intent))
    }

    public func record(result: [String: String], step: String) throws {
        try finish(step: step, state: .done, payload: result)
    }

    public func record(failure: [String: String], step: String) throws {
        try finish(step: step, state: .failed, payload: failure)
    }

    private func finish(step: String, state: StepRecord.State, payload: [String: String]) throws {
        shared.lock.lock(); defer { shared.lock.unlock() }
        guard let index = shared.records.lastIndex(where: { $0.runID == runID && $0.step == step }) else {
            throw StepJournalError("Step '\(step)' of run \(runID) has no recorded intent.")
        }
        shared.records[index].state = state
        shared.records[index].result = payload
    }

    public func lookup(step: String) throws -> StepRecord? {
        shared.lock.lock(); defer { shared.lock.unlock() }
        if let own = shared.records.last(where: { $0.runID == runID && $0.step == step }) { return own }
        return shared.records.last { $0.step == step }
    }
}
