import Foundation
import RefitCore
import RefitStore

/// The `steps` table on PostgreSQL as a ``StepJournal``, as `SQLiteStepJournal` is on SQLite:
/// each call is one short transaction, so a crash at any instant leaves either the intent or the
/// result written, never half of either. Lookups span every run of this run's window, this run's
/// own record first, then the newest attempt's.
public final class PostgresStepJournal: StepJournal, Sendable {
    public let runID: String
    private let database: PostgresDatabase
    private let now: @Sendable () -> Date

    public init(database: PostgresDatabase, runID: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.runID = runID
        self.now = now
    }

    public func record(intent: [String: String], step: String) throws {
        let payload = try Self.json(intent)
        let at = Self.instant(now())
        let runID = self.runID
        try patiently { try database.writeNow { c in
            let updated = try c.execute("""
                UPDATE steps SET state = 'intent', intent = $1, result = NULL, started_at = $2, ended_at = NULL
                WHERE run_id = $3 AND name = $4
                """, [.text(payload), .timestamp(at), .text(runID), .text(step)])
            if updated == 0 {
                try c.execute("""
                    INSERT INTO steps (run_id, seq, name, state, intent, started_at)
                    VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM steps WHERE run_id = $1), $2, 'intent', $3, $4)
                    """, [.text(runID), .text(step), .text(payload), .timestamp(at)])
            }
            try Self.noteExternalJob(c, runID: runID, payload: intent)
        } }
    }

    /// A step naming an external job (`jobId`) records it on the run at once, so history names
    /// the job even when the attempt later fails, times out or its worker dies.
    private static func noteExternalJob(_ c: PostgresConnection, runID: String, payload: [String: String]) throws {
        guard let job = payload["jobId"], !job.isEmpty else { return }
        try c.execute("UPDATE runs SET external_job_id = $1 WHERE run_id = $2 AND external_job_id IS DISTINCT FROM $1",
                      [.text(job), .text(runID)])
    }

    public func record(result: [String: String], step: String) throws {
        try finish(step: step, state: "done", payload: result)
    }

    public func record(failure: [String: String], step: String) throws {
        try finish(step: step, state: "failed", payload: failure)
    }

    private func finish(step: String, state: String, payload: [String: String]) throws {
        let json = try Self.json(payload)
        let at = Self.instant(now())
        let runID = self.runID
        let changed = try patiently { try database.writeNow { c in
            let changed = try c.execute("""
                UPDATE steps SET state = $1, result = $2, ended_at = greatest($3, started_at)
                WHERE run_id = $4 AND name = $5
                """, [.text(state), .text(json), .timestamp(at), .text(runID), .text(step)])
            if changed > 0 && state == "done" { try Self.noteExternalJob(c, runID: runID, payload: payload) }
            return changed
        } }
        if changed == 0 {
            throw StepJournalError("Step '\(step)' of run \(runID) has no recorded intent.")
        }
    }

    public func lookup(step: String) throws -> StepRecord? {
        let runID = self.runID
        let rows = try patiently { try database.readNow { c in
            try c.query("""
                SELECT s.run_id, s.name, s.state, s.intent, s.result
                FROM steps AS s JOIN runs AS r ON r.run_id = s.run_id
                WHERE s.name = $1 AND r.window_id = (SELECT window_id FROM runs WHERE run_id = $2)
                ORDER BY (s.run_id = $2) DESC, r.seq DESC
                LIMIT 1
                """, [.text(step), .text(runID)])
        } }
        guard let row = rows.first else { return nil }
        guard let run = row.string("run_id"), let name = row.string("name"),
              let state = row.string("state").flatMap(StepRecord.State.init(rawValue:)),
              let intent = try Self.decode(row.string("intent"))
        else { throw StepJournalError("A journal row of step '\(step)' is unreadable.") }
        return StepRecord(runID: run, step: name, state: state, intent: intent, result: try Self.decode(row.string("result")))
    }

    /// How long a journal call keeps trying a database that does not answer.
    static let patience: TimeInterval = 20

    /// Runs `body`, again after 1 s, 2 s, 4 s, then every 5 s while the database does not answer
    /// (`.unavailable`: a server restarting, a network cut), for up to `patience`. The database
    /// already resets a lost connection with a short backoff; this outlasts a longer outage, so a
    /// running attempt does not fail just because a step could not be written meanwhile. Every
    /// write here is idempotent (an intent or result is set, not appended), so trying again after
    /// a COMMIT whose fate was unknown writes the same row.
    private func patiently<T>(_ body: () throws -> T) throws -> T {
        let started = Date()
        var pause: TimeInterval = 1
        while true {
            do {
                return try body()
            } catch let error as StoreError where error.code == .unavailable && Date().timeIntervalSince(started) + pause < Self.patience {
                Thread.sleep(forTimeInterval: pause)
                pause = min(5, pause * 2)
            }
        }
    }

    private static func instant(_ date: Date) -> Instant {
        WallInstant(date).instant
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
