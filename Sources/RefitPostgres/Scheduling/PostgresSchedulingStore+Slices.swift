import Foundation
import RefitCore
import RefitStore

/// External dataset slices: which checks are due, and recording what a probe found.
extension PostgresSchedulingStore {
    public func dueChecks(now: Instant, datasets: [String], limit: Int) async throws -> [SliceRecord] {
        guard !datasets.isEmpty else { return [] }
        return try await database.read { c in
            try c.query("""
                SELECT \(SliceRecord.columns) FROM slices
                WHERE state = 'Waiting' AND next_check_at <= $1 AND dataset = ANY(string_to_array($2, chr(31)))
                ORDER BY next_check_at, dataset, slice_start LIMIT $3
                """, [.timestamp(now), Self.list(datasets), .integer(Int64(limit))]).compactMap(SliceRecord.init(row:))
        }
    }

    public func waitingBetweenChecks(datasets: [String], now: Instant, limit: Int) async throws -> [SliceRecord] {
        guard !datasets.isEmpty else { return [] }
        return try await database.read { c in
            try c.query("""
                SELECT \(SliceRecord.columns) FROM slices
                WHERE state = 'Waiting' AND check_count > 0 AND next_check_at > $1 AND dataset = ANY(string_to_array($2, chr(31)))
                ORDER BY dataset, slice_start LIMIT $3
                """, [.timestamp(now), Self.list(datasets), .integer(Int64(limit))]).compactMap(SliceRecord.init(row:))
        }
    }

    public func recordChecks(_ checks: [SliceCheckUpdate], now: Instant) async throws {
        guard !checks.isEmpty else { return }
        try await database.write { c in
            // Events are appended last: the audit log's lock is then never held while waiting for
            // a row another transaction holds (which would deadlock with it).
            var events: [NewAuditEvent] = []
            for update in checks {
                guard let record = try c.query("SELECT \(SliceRecord.columns) FROM slices WHERE id = $1 FOR UPDATE", [.integer(update.sliceID)])
                    .first.flatMap(SliceRecord.init(row:)) else { continue }
                let check = update.check
                let changed = try c.execute("""
                    UPDATE slices SET state = $1, substate = $2, fingerprint = $3, check_count = $4, next_check_at = $5, message = $6,
                        updated_at = $7
                    WHERE id = $8 AND state = 'Waiting' AND check_count = $9
                    """, [.text(check.status.rawValue), PostgresValue(check.substate?.rawValue), PostgresText.json(check.fingerprint),
                          .integer(Int64(check.checkCount)), PostgresValue(check.nextCheckAt), PostgresValue(check.lastMessage),
                          .timestamp(now), .integer(update.sliceID), .integer(Int64(update.seenCheckCount))])
                guard changed == 1 else { continue }
                if check.status == .ready && record.status != .ready {
                    try PostgresReadiness.sliceChanged(c, dataset: record.dataset, start: record.slice.start, ready: true, now: now)
                }
                events.append(NewAuditEvent(
                    at: now.date, kind: "sliceChecked", windowStart: record.slice.start.date,
                    detail: PostgresText.json(["dataset": record.dataset, "status": check.status.rawValue,
                                               "substate": check.substate?.rawValue, "checks": check.checkCount,
                                               "message": check.lastMessage, "files": check.fingerprint?.files.count])))
            }
            for event in events { try c.appendEvent(event) }
        }
    }

    public func nextCheckTime(datasets: [String]) async throws -> Instant? {
        guard !datasets.isEmpty else { return nil }
        return try await database.read { c in
            try c.query("""
                SELECT next_check_at AS t FROM slices
                WHERE state = 'Waiting' AND next_check_at IS NOT NULL AND dataset = ANY(string_to_array($1, chr(31)))
                ORDER BY next_check_at LIMIT 1
                """, [Self.list(datasets)]).first?.instant("t")
        }
    }

    /// A list of names as one parameter (split in SQL on the unit separator, which names never contain).
    static func list(_ names: [String]) -> PostgresValue {
        .text(names.joined(separator: "\u{1F}"))
    }
}
