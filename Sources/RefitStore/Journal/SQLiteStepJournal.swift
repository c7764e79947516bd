import Foundation
import RefitCore
import Synchronization

/// The `steps` table as a ``StepJournal``: each write is one short transaction, so a crash at
/// any instant leaves either the intent or the result on disk, never half of either. A result
/// recorded with `record(laterResult:step:)`, and the intent of a read-only step recorded with
/// `record(laterIntent:step:)`, are held in memory, in order, and written in the transaction of
/// the next durable write (an intent, a result or a failure) or by `flush()`, so steps that
/// follow one another at once cost one commit instead of several. A worker's journal
/// (`handsOverToFinish`) leaves what is still held when the activity ends (`handOver()`) to the
/// transaction of `SQLiteSchedulingStore.finish` or `release` that records the attempt's outcome.
///
/// The run must already exist in `runs` (the worker writes it when it claims the window);
/// lookups span every run of that run's window, newest attempt first.
///
/// The first lookup reads the window's steps once; later lookups answer from that copy, which
/// this journal's own writes keep current. That holds because an attempt writes only its own
/// run's steps and is the only attempt of its window while it holds the lease.
public final class SQLiteStepJournal: StepJournal, Sendable {
    public let runID: String
    private let database: SQLiteDatabase
    private let now: @Sendable () -> Date
    /// Each step's newest record across the window's runs (this run's first); nil until read.
    private let known = Mutex<[String: StepRecord]?>(nil)
    /// Writes recorded as "later" and not on disk yet, oldest first.
    private let held = Mutex<[HeldStepWrite]>([])
    /// Steps whose intent this journal wrote (or holds) and whose end it has not recorded: their
    /// intent is known without reading the window's steps.
    private let openIntents = Mutex<Set<String>>([])
    /// Where `handOver()` leaves what is held, for the transaction that records the attempt's
    /// outcome; nil: `handOver()` writes at once.
    private let handedOver: HandedOverSteps?

    /// `handsOverToFinish`: the attempt's outcome is recorded by `SQLiteSchedulingStore.finish`
    /// (or `release`) of this run, which writes what `handOver()` leaves (the worker's attempts).
    /// Without it (`refit rollback`, tests), `handOver()` is `flush()`.
    public init(store: Store, runID: String, handsOverToFinish: Bool = false,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = store.database
        self.runID = runID
        self.now = now
        self.handedOver = handsOverToFinish ? store.handedOverSteps : nil
    }

    public func record(intent: [String: String], step: String) throws {
        let at = StoreTimestamp.string(from: now())
        let runID = self.runID
        try writingHeld { db in try Self.writeIntent(db, runID: runID, step: step, payload: intent, at: at) }
        noteIntent(step: step, payload: intent)
    }

    public func record(laterIntent: [String: String], step: String) throws {
        let at = StoreTimestamp.string(from: now())
        held.withLock { $0.append(.intent(step: step, payload: laterIntent, at: at)) }
        noteIntent(step: step, payload: laterIntent)
    }

    /// Writes a step's intent: a new step takes the run's next sequence number; a step run
    /// again keeps its own.
    private static func writeIntent(_ db: SQLiteConnection, runID: String, step: String, payload: [String: String],
                                    at: String) throws {
        try db.execute("""
            INSERT INTO steps (run_id, seq, name, state, intent, started_at)
            VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM steps WHERE run_id = ?1), ?2, 'intent', ?3, ?4)
            ON CONFLICT (run_id, name) DO UPDATE SET
                state = 'intent', intent = excluded.intent, result = NULL, started_at = excluded.started_at, ended_at = NULL
            """, [.text(runID), .text(step), .text(try json(payload)), .text(at)])
        try noteExternalJob(db, runID: runID, payload: payload)
    }

    private func noteIntent(step: String, payload: [String: String]) {
        let record = StepRecord(runID: runID, step: step, state: .intent, intent: payload)
        known.withLock { if $0 != nil { $0?[step] = record } }
        openIntents.withLock { _ = $0.insert(step) }
    }

    /// A step naming an external job (`jobId`) records it on the run at once, so history names
    /// the job even when the attempt later fails, times out or its worker dies.
    private static func noteExternalJob(_ db: SQLiteConnection, runID: String, payload: [String: String]) throws {
        guard let job = payload["jobId"], !job.isEmpty else { return }
        try db.execute("UPDATE runs SET external_job_id = ? WHERE run_id = ? AND external_job_id IS NOT ?",
                       [.text(job), .text(runID), .text(job)])
    }

    public func record(result: [String: String], step: String) throws {
        try finish(step: step, state: "done", payload: result)
    }

    public func record(failure: [String: String], step: String) throws {
        try finish(step: step, state: "failed", payload: failure)
    }

    public func record(laterResult: [String: String], step: String) throws {
        // Held only when this journal knows the step's intent is on disk or held before it (it
        // read or wrote it): otherwise written at once, so a missing intent is reported here, not
        // by a later write.
        let intentKnown = openIntents.withLock { $0.contains(step) }
            || known.withLock { $0?[step].map { $0.runID == runID && $0.state == .intent } ?? false }
        guard intentKnown else { return try record(result: laterResult, step: step) }
        let at = StoreTimestamp.string(from: now())
        held.withLock { $0.append(.result(step: step, payload: laterResult, at: at)) }
        noteEnd(step: step, state: "done", payload: laterResult)
    }

    public func flush() throws {
        guard held.withLock({ !$0.isEmpty }) || handedOver?.holds(runID: runID) == true else { return }
        try writingHeld { _ in }
    }

    /// Leaves what is held to the transaction that records this run's outcome, when there is
    /// one (`handsOverToFinish`): the last steps of an attempt then cost no commit of their own.
    public func handOver() throws {
        guard let handedOver else { return try flush() }
        let carried = held.withLock { h in defer { h = [] }; return h }
        handedOver.add(carried, runID: runID)
    }

    private func finish(step: String, state: String, payload: [String: String]) throws {
        let at = StoreTimestamp.string(from: now())
        let runID = self.runID
        try writingHeld { db in
            try Self.writeEnd(db, runID: runID, step: step, state: state, payload: payload, at: at)
        }
        noteEnd(step: step, state: state, payload: payload)
    }

    /// One transaction: the held writes first, in order, then `body`. When it fails they are
    /// held again, so the next write or `flush()` tries again.
    private func writingHeld(_ body: (SQLiteConnection) throws -> Void) throws {
        // Anything handed over and not written yet comes first (a write after `handOver()`).
        let carried = (handedOver?.take(runID: runID) ?? []) + held.withLock { h in defer { h = [] }; return h }
        let runID = self.runID
        do {
            try database.transaction { db in
                try Self.write(carried, runID: runID, db)
                try body(db)
            }
        } catch {
            if !carried.isEmpty { held.withLock { $0 = carried + $0 } }
            throw error
        }
    }

    /// Writes held steps of `runID`, in order, inside the caller's transaction.
    static func write(_ writes: [HeldStepWrite], runID: String, _ db: SQLiteConnection) throws {
        for write in writes {
            switch write {
            case .intent(let step, let payload, let at):
                try writeIntent(db, runID: runID, step: step, payload: payload, at: at)
            case .result(let step, let payload, let at):
                try writeEnd(db, runID: runID, step: step, state: "done", payload: payload, at: at)
            }
        }
    }

    /// Ends a step's record (the UPDATE of a result or a failure); throws when it has no intent.
    private static func writeEnd(_ db: SQLiteConnection, runID: String, step: String, state: String,
                                 payload: [String: String], at: String) throws {
        let changed = try db.execute("""
            UPDATE steps SET state = ?, result = ?, ended_at = max(?, started_at)
            WHERE run_id = ? AND name = ?
            """, [.text(state), .text(try json(payload)), .text(at), .text(runID), .text(step)])
        if changed == 0 {
            throw StepJournalError("Step '\(step)' of run \(runID) has no recorded intent.")
        }
        if state == "done" { try noteExternalJob(db, runID: runID, payload: payload) }
    }

    private func noteEnd(step: String, state: String, payload: [String: String]) {
        openIntents.withLock { _ = $0.remove(step) }
        known.withLock { steps in
            guard var record = steps?[step], record.runID == runID else { return }
            record.state = state == "done" ? .done : .failed
            record.result = payload
            steps?[step] = record
        }
    }

    public func lookup(step: String) throws -> StepRecord? {
        if let steps = known.withLock({ $0 }) { return steps[step] }
        let rows = try database.query("""
            SELECT s.run_id, s.name, s.state, s.intent, s.result
            FROM steps AS s JOIN runs AS r ON r.run_id = s.run_id
            WHERE r.window_id = (SELECT window_id FROM runs WHERE run_id = ?)
            ORDER BY (s.run_id = ?) DESC, r.rowid DESC
            """, [.text(runID), .text(runID)])
        var steps: [String: StepRecord] = [:]
        for row in rows {
            guard let run = row.string("run_id"), let name = row.string("name"),
                  let state = row.string("state").flatMap(StepRecord.State.init(rawValue:)),
                  let intent = try Self.decode(row.string("intent"))
            else { throw StepJournalError("A journal row of step '\(row.string("name") ?? "?")' is unreadable.") }
            guard steps[name] == nil else { continue }
            steps[name] = StepRecord(runID: run, step: name, state: state, intent: intent, result: try Self.decode(row.string("result")))
        }
        // What this journal holds and has not written yet (an intent it wrote itself lets it hold
        // the result before any lookup) is newer than the disk.
        let pending = (handedOver?.peek(runID: runID) ?? []) + held.withLock { $0 }
        for write in pending {
            switch write {
            case .intent(let name, let payload, _):
                steps[name] = StepRecord(runID: runID, step: name, state: .intent, intent: payload)
            case .result(let name, let payload, _):
                guard var record = steps[name], record.runID == runID else { continue }
                record.state = .done
                record.result = payload
                steps[name] = record
            }
        }
        known.withLock { $0 = steps }
        return steps[step]
    }

    private static func json(_ payload: [String: String]) throws -> String {
        JSONString.object(payload)
    }

    private static func decode(_ text: String?) throws -> [String: String]? {
        guard let text else { return nil }
        do {
            return try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        } catch {
            throw StepJournalError("A journal payload is not a JSON object of strings.")
        }
    }
}

/// A journal write recorded as "later" and not on disk yet.
enum HeldStepWrite: Sendable {
    case intent(step: String, payload: [String: String], at: String)
    case result(step: String, payload: [String: String], at: String)
}

/// What attempts' journals handed over (`SQLiteStepJournal.handOver()`), by run, until the
/// transaction that records the run's outcome writes it first (`SQLiteSchedulingStore.finish` and
/// `release`). One per `Store`: the journals and the scheduling store of a process share it.
final class HandedOverSteps: Sendable {
    private let byRun = Mutex<[String: [HeldStepWrite]]>([:])
    /// Runs whose outcome is never recorded here (a lease lost to another worker, a database that
    /// stopped answering) leave their steps behind; past this many runs some are dropped, as a
    /// crash would drop them. A worker has far fewer attempts running at once.
    static let runLimit = 1_024

    func add(_ writes: [HeldStepWrite], runID: String) {
        guard !writes.isEmpty else { return }
        byRun.withLock { runs in
            runs[runID, default: []].append(contentsOf: writes)
            while runs.count > Self.runLimit, let victim = runs.keys.first(where: { $0 != runID }) {
                runs[victim] = nil
            }
        }
    }

    /// Takes (and forgets) what `runID` handed over.
    func take(runID: String) -> [HeldStepWrite] {
        byRun.withLock { $0.removeValue(forKey: runID) ?? [] }
    }

    /// Gives back what a failed transaction took, ahead of anything handed over since.
    func putBack(_ writes: [HeldStepWrite], runID: String) {
        guard !writes.isEmpty else { return }
        byRun.withLock { $0[runID] = writes + ($0[runID] ?? []) }
    }

    /// What `runID` handed over, left in place.
    func peek(runID: String) -> [HeldStepWrite] {
        byRun.withLock { $0[runID] ?? [] }
    }

    func holds(runID: String) -> Bool {
        byRun.withLock { $0[runID] != nil }
    }
}
