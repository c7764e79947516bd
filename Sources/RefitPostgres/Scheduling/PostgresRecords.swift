import Foundation
import RefitCore
import RefitStore

extension WindowRecord {
    static let columns = """
        id, pipeline, activity, window_start, window_end, state, substate, attempts, long_retry_round,
        next_attempt_at, next_trigger, priority, lease_owner, lease_expires_at, definition_sha256, updated_at, missing_inputs
        """

    init?(row: PostgresRow) {
        guard let id = row.int64("id"), let pipeline = row.string("pipeline"), let activity = row.string("activity"),
              let start = row.instant("window_start"), let end = row.instant("window_end"),
              let status = row.string("state").flatMap(WindowStatus.init(rawValue:)) else { return nil }
        self.init(id: id, key: ActivityKey(pipeline: pipeline, activity: activity), window: Slice(start: start, end: end),
                  status: status, substate: row.string("substate").flatMap(WindowSubstate.init(rawValue:)),
                  attempts: row.int("attempts") ?? 0, longRetryRound: row.int("long_retry_round") ?? 0,
                  nextAttemptAt: row.instant("next_attempt_at"),
                  nextTrigger: row.string("next_trigger").flatMap(RunTrigger.init(rawValue:)) ?? .schedule,
                  priority: row.int("priority") ?? 0, leaseOwner: row.string("lease_owner"),
                  leaseExpiresAt: row.instant("lease_expires_at"), definitionSHA256: row.string("definition_sha256"),
                  updatedAt: row.instant("updated_at"), missingInputs: row.int("missing_inputs"))
    }
}

extension SliceRecord {
    static let columns = "id, dataset, slice_start, slice_end, state, substate, fingerprint, check_count, next_check_at, message, updated_at, changed_at"

    init?(row: PostgresRow) {
        guard let id = row.int64("id"), let dataset = row.string("dataset"),
              let start = row.instant("slice_start"), let end = row.instant("slice_end"),
              let status = row.string("state").flatMap(WindowStatus.init(rawValue:)) else { return nil }
        self.init(id: id, dataset: dataset, slice: Slice(start: start, end: end), status: status,
                  substate: row.string("substate").flatMap(WindowSubstate.init(rawValue:)),
                  fingerprint: row.string("fingerprint").flatMap(PostgresText.fingerprint),
                  checkCount: row.int("check_count") ?? 0, nextCheckAt: row.instant("next_check_at"),
                  message: row.string("message"), updatedAt: row.instant("updated_at"), changedAt: row.instant("changed_at"))
    }
}

/// Conversions between RefitCore values and their stored text (JSON documents).
enum PostgresText {
    /// A JSON object with sorted keys from simple values (strings, numbers, bools, nil → null).
    static func json(_ fields: [String: Any?]) -> String { JSONString.detail(fields) }

    static func isValidJSON(_ text: String) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
    }

    static func json(_ fingerprint: DataFingerprint?) -> PostgresValue {
        fingerprint.map { .text($0.storedJSON) } ?? .null
    }

    static func fingerprint(_ text: String) -> DataFingerprint? { DataFingerprint(storedJSON: text) }
}

extension PostgresConnection {
    /// Takes a transaction-scoped advisory lock named `key` (released at COMMIT or ROLLBACK).
    func advisoryLock(_ key: String) throws {
        try execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text(key)])
    }

    /// Appends an event to the hash-chained audit log inside the caller's transaction. The
    /// chain's tail is read under an advisory lock held until COMMIT, so writers on several
    /// hosts append one after another and never fork the chain. Call it after the
    /// transaction's row changes: holding this lock while waiting for a row lock could deadlock.
    func appendEvent(_ event: NewAuditEvent) throws {
        try advisoryLock("refit:events")
        let tail = try query("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").first
        let id = (tail?.int64("id") ?? 0) + 1
        let prevHash = tail?.string("hash") ?? AuditEvent.genesisHash
        let at = StoreTimestamp.string(from: event.at)
        let windowStart = event.windowStart.map(StoreTimestamp.string(from:))
        let hash = AuditEvent.chainHash(id: id, at: at, kind: event.kind, pipeline: event.pipeline, activity: event.activity,
                                        windowStart: windowStart, runID: event.runID, detail: event.detail, prevHash: prevHash)
        try execute("""
            INSERT INTO events (id, at, kind, pipeline, activity, window_start, run_id, detail, prev_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, [.integer(id), .text(at), .text(event.kind), PostgresValue(event.pipeline), PostgresValue(event.activity),
                  PostgresValue(windowStart), PostgresValue(event.runID), .text(event.detail), .text(prevHash), .text(hash)])
    }
}

extension Instant {
    /// The instant as a Foundation date (audit events take dates).
    var date: Date { Date(timeIntervalSince1970: TimeInterval(secondsSinceEpoch)) }
}
