import Foundation
import RefitCore

/// The `steps` table as a ``StepJournal``: each call is one short transaction, so a crash at
/// any instant leaves either the intent or the result on disk, never half of either.
///
/// The run must already exist in `runs` (the worker writes it when it claims the window);
/// lookups span every run of that run's window, newest attempt first.
public final class SQLiteStepJournal: StepJournal, Sendable {
    public let runID: String
    private let database: SQLiteDatabase
    private let now: @Sendable () -> Date

    public init(store: Store, runID: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = store.database
        self.runID = runID
        self.now = now
    }

    public func record(intent: [String: String], step: String) throws {
        let payload = try Self.json(intent)
        let at = StoreTimestamp.string(from: now())
        try database.transaction { db in
            // A new step takes the run's next sequence number; a step run again keeps its own.
            try db.execute("""
                INSERT INTO steps (run_id, seq, name, state, intent, started_at)
                VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM steps WHERE run_id = ?1), ?2, 'intent', ?3, ?4)
                ON CONFLICT (run_id, name) DO UPDATE SET
                    state = 'intent', intent = excluded.intent, result = NULL, started_at = excluded.started_at, ended_at = NULL
                """, [.text(runID), .text(step), .text(payload), .text(at)])
            try Self.noteExternalJob(db, runID: runID, payload: intent)
        }
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

    private func finish(step: String, state: String, payload: [String: String]) throws {
        let json = try Self.json(payload)
        let at = StoreTimestamp.string(from: now())
        let runID = self.runID
        let changed = try database.transaction { db in
            let changed = try db.execute("""
                UPDATE steps SET state = ?, result = ?, ended_at = max(?, started_at)
                WHERE run_id = ? AND name = ?
                """, [.text(state), .text(json), .text(at), .text(runID), .text(step)])
            if changed > 0 && state == "done" { try Self.noteExternalJob(db, runID: runID, payload: payload) }
            return changed
        }
        if changed == 0 {
            throw StepJournalError("Step '\(step)' of run \(runID) has no recorded intent.")
        }
    }

    public func lookup(step: String) throws -> StepRecord? {
        let rows = try database.query("""
            SELECT s.run_id, s.name, s.state, s.intent, s.result
            FROM steps AS s JOIN runs AS r ON r.run_id = s.run_id
            WHERE s.name = ? AND r.window_id = (SELECT window_id FROM runs WHERE run_id = ?)
            ORDER BY (s.run_id = ?) DESC, r.rowid DESC
            LIMIT 1
            """, [.text(step), .text(runID), .text(runID)])
        guard let row = rows.first else { return nil }
        guard let run = row.string("run_id"), let name = row.string("name"),
              let state = row.string("state").flatMap(StepRecord.State.init(rawValue:)),
              let intent = try Self.decode(row.string("intent"))
        else { throw StepJournalError("A journal row of step '\(step)' is unreadable.") }
        return StepRecord(runID: run, step: name, state: state, intent: intent,
                          result: try Self.decode(row.string("result")))
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
