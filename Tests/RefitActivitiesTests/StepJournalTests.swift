import Foundation
import RefitCore
@testable import RefitStore
import Testing

/// A fresh store with one window and the given runs (attempts) of it.
private func makeStore(runs: [String]) throws -> (Store, URL) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("refit-journal-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let store = try Store.open(path: dir.appendingPathComponent("refit.sqlite").path)
    let sha = String(repeating: "a", count: 64)
    _ = try store.database.execute("""
        INSERT INTO windows (id, pipeline, activity, window_start, window_end, updated_at)
        VALUES (1, 'p', 'a', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-01T00:00:00Z'),
               (2, 'p', 'a', '2024-01-02T00:00:00Z', '2024-01-03T00:00:00Z', '2024-01-01T00:00:00Z')
        """)
    for (index, run) in runs.enumerated() {
        _ = try store.database.execute("""
            INSERT INTO runs (run_id, window_id, attempt, "trigger", worker_id, started_at, definition_sha256)
            VALUES (?, ?, ?, 'schedule', 'w', '2024-01-02T00:00:00Z', ?)
            """, [.text(run), .integer(run.hasPrefix("other") ? 2 : 1), .integer(Int64(index + 1)), .text(sha)])
    }
    return (store, dir)
}

@Suite struct StepJournalTests {
    @Test func inMemoryAttemptSeesEarlierIntent() throws {
        let first = InMemoryStepJournal(runID: "r1")
        try first.record(intent: ["service": "s"], step: "submit")
        let second = first.attempt(runID: "r2")
        let seen = try #require(try second.lookup(step: "submit"))
        #expect(seen.runID == "r1" && seen.outcomeUnknown)
        try second.record(intent: ["service": "s"], step: "submit")
        try second.record(result: ["jobId": "j2"], step: "submit")
        #expect(try first.lookup(step: "submit")?.runID == "r1")
        #expect(try second.lookup(step: "submit")?.result == ["jobId": "j2"])
        #expect(throws: StepJournalError.self) { try second.record(result: [:], step: "poll") }
    }

    @Test func sqliteJournalRoundTripsAndSpansTheWindow() throws {
        let (store, dir) = try makeStore(runs: ["r1", "r2", "other-1"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let r1 = SQLiteStepJournal(store: store, runID: "r1")
        try r1.record(intent: ["service": "s"], step: "submit")
        try r1.record(intent: ["x": "1"], step: "stage-inputs")
        try r1.record(result: ["staged": "1"], step: "stage-inputs")

        let r2 = SQLiteStepJournal(store: store, runID: "r2")
        let previous = try #require(try r2.lookup(step: "submit"))
        #expect(previous.runID == "r1" && previous.state == .intent && previous.result == nil)
        #expect(try r2.lookup(step: "stage-inputs")?.result == ["staged": "1"])

        try r2.record(intent: ["service": "s", "note": "resubmit"], step: "submit")
        try r2.record(result: ["jobId": "abc"], step: "submit")
        let own = try #require(try r2.lookup(step: "submit"))
        #expect(own.runID == "r2" && own.state == .done && own.result == ["jobId": "abc"])
        // The first run's own record stays its own.
        #expect(try r1.lookup(step: "submit")?.runID == "r1")

        // Another window does not see these steps.
        #expect(try SQLiteStepJournal(store: store, runID: "other-1").lookup(step: "submit") == nil)

        // Re-recording the intent in the same run replaces it; failure is recorded.
        try r2.record(intent: ["again": "yes"], step: "poll")
        try r2.record(intent: ["again": "twice"], step: "poll")
        try r2.record(failure: ["message": "The job failed."], step: "poll")
        let poll = try #require(try r2.lookup(step: "poll"))
        #expect(poll.state == .failed && poll.intent == ["again": "twice"] && poll.result?["message"] == "The job failed.")
        #expect(throws: StepJournalError.self) { try r2.record(result: [:], step: "collect") }
    }

    /// The state on disk of a run's step, read past the journal's memory.
    private func stored(_ store: Store, _ run: String, _ step: String) throws -> String? {
        try store.database.query("SELECT state FROM steps WHERE run_id = ? AND name = ?", [.text(run), .text(step)]).first?.string("state")
    }

    @Test("a later result is seen at once, and written with the next intent in one transaction")
    func laterResultRidesWithTheNextIntent() throws {
        let (store, dir) = try makeStore(runs: ["r1"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = SQLiteStepJournal(store: store, runID: "r1")
        #expect(try journal.lookup(step: "submit") == nil)
        try journal.record(intent: ["service": "s"], step: "submit")
        try journal.record(laterResult: ["jobId": "j1"], step: "submit")
        #expect(try journal.lookup(step: "submit")?.result == ["jobId": "j1"])
        #expect(try stored(store, "r1", "submit") == "intent")
        try journal.record(intent: ["jobId": "j1"], step: "start")
        #expect(try stored(store, "r1", "submit") == "done")
        #expect(try stored(store, "r1", "start") == "intent")
        // The run names the job once the result is written.
        #expect(try store.database.query("SELECT external_job_id FROM runs WHERE run_id = 'r1'").first?.string("external_job_id") == "j1")
        // A fresh journal (another process) reads both from disk.
        #expect(try SQLiteStepJournal(store: store, runID: "r1").lookup(step: "submit")?.state == .done)
    }

    @Test("flush writes a held result; a failure carries it too; a journal dropped without either leaves the step unknown")
    func flushAndCrash() throws {
        let (store, dir) = try makeStore(runs: ["r1", "r2"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = SQLiteStepJournal(store: store, runID: "r1")
        _ = try first.lookup(step: "poll")
        try first.record(intent: ["jobId": "j"], step: "poll")
        try first.record(laterResult: ["state": "Finished"], step: "poll")
        try first.flush()
        #expect(try stored(store, "r1", "poll") == "done")
        try first.flush()

        try first.record(intent: ["jobId": "j"], step: "collect")
        try first.record(laterResult: ["out": "1"], step: "collect")
        try first.record(intent: ["x": "1"], step: "extra")
        try first.record(laterResult: ["x": "done"], step: "extra")
        try first.record(failure: ["message": "gone"], step: "collect")
        #expect(try stored(store, "r1", "extra") == "done")
        #expect(try stored(store, "r1", "collect") == "failed")

        // A crash before the held result is written: the next attempt sees the step's outcome unknown.
        let second = SQLiteStepJournal(store: store, runID: "r2")
        _ = try second.lookup(step: "submit")
        try second.record(intent: ["service": "s"], step: "submit")
        try second.record(laterResult: ["jobId": "lost"], step: "submit")
        let third = SQLiteStepJournal(store: store, runID: "r2")
        #expect(try third.lookup(step: "submit")?.outcomeUnknown == true)
    }

    @Test("a read-only step's intent is held in order with the results before it and written with the next write")
    func laterIntentIsHeldInOrder() throws {
        let (store, dir) = try makeStore(runs: ["r1", "r2"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = SQLiteStepJournal(store: store, runID: "r1")
        _ = try journal.lookup(step: "start")
        try journal.record(intent: ["jobId": "j"], step: "start")
        try journal.record(laterResult: ["jobId": "j"], step: "start")
        try journal.record(laterIntent: ["jobId": "j"], step: "poll")
        #expect(try journal.lookup(step: "poll")?.state == .intent)
        try journal.record(laterResult: ["state": "Finished"], step: "poll")
        try journal.record(laterIntent: ["jobId": "j"], step: "collect")
        #expect(try journal.lookup(step: "collect")?.state == .intent)
        // Nothing of the three is on disk yet.
        #expect(try stored(store, "r1", "start") == "intent")
        #expect(try stored(store, "r1", "poll") == nil)
        #expect(try stored(store, "r1", "collect") == nil)
        // The collect result carries them all, in order, in one transaction.
        try journal.record(result: ["out": "1"], step: "collect")
        #expect(try stored(store, "r1", "start") == "done")
        #expect(try stored(store, "r1", "poll") == "done")
        #expect(try stored(store, "r1", "collect") == "done")
        let order = try store.database.query("SELECT name FROM steps WHERE run_id = 'r1' ORDER BY seq").compactMap { $0.string("name") }
        #expect(order == ["start", "poll", "collect"])

        // flush writes a held intent on its own; a crash before any write loses it, and the next
        // attempt sees no such step (the read is simply done again).
        let second = SQLiteStepJournal(store: store, runID: "r2")
        _ = try second.lookup(step: "poll")
        try second.record(laterIntent: ["jobId": "k"], step: "poll")
        #expect(try SQLiteStepJournal(store: store, runID: "r2").lookup(step: "poll")?.runID == "r1")
        try second.flush()
        #expect(try stored(store, "r2", "poll") == "intent")
        // A failure carries a held intent before it.
        try second.record(laterIntent: ["jobId": "k"], step: "collect")
        try second.record(failure: ["message": "gone"], step: "collect")
        #expect(try stored(store, "r2", "collect") == "failed")
        // Journals without a cheaper way write at once (the protocol's default).
        let memory = InMemoryStepJournal()
        try memory.record(laterIntent: ["jobId": "m"], step: "poll")
        #expect(try memory.lookup(step: "poll")?.state == .intent)
    }

    @Test("a worker's journal hands what it holds over to the transaction that records the attempt's outcome")
    func handOverRidesWithTheOutcome() async throws {
        let (store, dir) = try makeStore(runs: ["r1", "r2", "r3"])
        defer { try? FileManager.default.removeItem(at: dir) }
        // Window 1 runs r1 under worker w's lease (r2 and r3 are its earlier runs, for the other paths).
        _ = try store.database.execute("""
            UPDATE windows SET state = 'InProgress', attempts = 1, lease_owner = 'w', lease_expires_at = '2030-01-01T00:00:00Z'
            WHERE id = 1
            """)
        let scheduling = SQLiteSchedulingStore(store)
        let budget = RetryBudget(attemptsPerRound: 3, rounds: 1, roundInterval: TimeSpan(seconds: 0))
        let now = Instant(year: 2024, month: 1, day: 2, hour: 1)

        let journal = SQLiteStepJournal(store: store, runID: "r1", handsOverToFinish: true)
        _ = try journal.lookup(step: "start")
        try journal.record(intent: ["jobId": "j"], step: "start")
        try journal.record(laterResult: ["jobId": "j"], step: "start")
        try journal.record(laterIntent: ["jobId": "j"], step: "poll")
        try journal.record(laterResult: ["state": "Finished"], step: "poll")
        try journal.handOver()
        // Handed over: not on disk, not a commit of its own; another journal of the run does not see it.
        #expect(try stored(store, "r1", "start") == "intent")
        #expect(try stored(store, "r1", "poll") == nil)
        // The outcome's transaction writes them first, in order.
        let finished = try await scheduling.finish(runID: "r1", workerID: "w", outcome: .succeeded(AttemptResult()),
                                                   budget: budget, now: now)
        #expect(finished?.applied == true)
        #expect(try stored(store, "r1", "start") == "done")
        #expect(try stored(store, "r1", "poll") == "done")
        let order = try store.database.query("SELECT name FROM steps WHERE run_id = 'r1' ORDER BY seq").compactMap { $0.string("name") }
        #expect(order == ["start", "poll"])

        // A result that arrives after the lease was lost is only audited, but its steps are facts of
        // the run and are written all the same.
        let late = SQLiteStepJournal(store: store, runID: "r2", handsOverToFinish: true)
        _ = try late.lookup(step: "collect")
        try late.record(laterIntent: ["jobId": "k"], step: "collect")
        try late.handOver()
        #expect(try await scheduling.finish(runID: "r2", workerID: "w", outcome: .succeeded(AttemptResult()),
                                            budget: budget, now: now)?.applied == false)
        #expect(try stored(store, "r2", "collect") == "intent")

        // A journal that does not end with a finish (`refit rollback`) flushes on hand-over.
        let alone = SQLiteStepJournal(store: store, runID: "r3")
        _ = try alone.lookup(step: "patch")
        try alone.record(intent: ["model": "m"], step: "patch")
        try alone.record(laterResult: ["model": "m"], step: "patch")
        try alone.handOver()
        #expect(try stored(store, "r3", "patch") == "done")
    }

    @Test("steps handed over by a worker that stops are written by the release of its lease")
    func handOverRidesWithTheRelease() async throws {
        let (store, dir) = try makeStore(runs: ["r1"])
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try store.database.execute("""
            UPDATE windows SET state = 'InProgress', attempts = 1, lease_owner = 'w', lease_expires_at = '2030-01-01T00:00:00Z'
            WHERE id = 1
            """)
        let journal = SQLiteStepJournal(store: store, runID: "r1", handsOverToFinish: true)
        _ = try journal.lookup(step: "start")
        try journal.record(intent: ["jobId": "j"], step: "start")
        try journal.record(laterResult: ["jobId": "j"], step: "start")
        try journal.handOver()
        #expect(try stored(store, "r1", "start") == "intent")
        try await SQLiteSchedulingStore(store).release(runID: "r1", workerID: "w",
                                                       budget: RetryBudget(attemptsPerRound: 3, rounds: 1, roundInterval: TimeSpan(seconds: 0)),
                                                       now: Instant(year: 2024, month: 1, day: 2, hour: 1))
        #expect(try stored(store, "r1", "start") == "done")
        #expect(try store.database.query("SELECT status FROM runs WHERE run_id = 'r1'").first?.string("status") == "Failed")
    }

    @Test("a later result for a step whose intent the journal has not seen is written at once")
    func laterResultWithoutKnownIntent() throws {
        let (store, dir) = try makeStore(runs: ["r1"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = SQLiteStepJournal(store: store, runID: "r1")
        // No lookup: the journal has not read the window's steps, and an intent it did not write
        // itself is not known, so the result is written at once (and refused: there is no intent).
        #expect(throws: StepJournalError.self) { try writer.record(laterResult: [:], step: "never-started") }
        // An intent it wrote itself it knows without a lookup: the result is held.
        try writer.record(intent: ["a": "1"], step: "stage-inputs")
        try writer.record(laterResult: ["a": "done"], step: "stage-inputs")
        #expect(try stored(store, "r1", "stage-inputs") == "intent")
        #expect(try writer.lookup(step: "stage-inputs")?.state == .done)
        try writer.flush()
        #expect(try stored(store, "r1", "stage-inputs") == "done")
        // Once ended, the step's intent is no longer open: another later result is written at once.
        #expect(throws: StepJournalError.self) { try SQLiteStepJournal(store: store, runID: "r1").record(laterResult: [:], step: "other") }
        // Journals without a cheaper way write at once (the protocol's default).
        #expect(throws: StepJournalError.self) { try InMemoryStepJournal().record(laterResult: [:], step: "x") }
    }
}
