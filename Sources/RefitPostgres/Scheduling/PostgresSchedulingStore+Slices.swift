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

    public func readySlices(datasets: [String], since: Instant, after cursor: SliceCursor?, limit: Int) async throws -> [SliceRecord] {
        guard !datasets.isEmpty, limit > 0 else { return [] }
        return try await database.read { c in
            // Per dataset along slices_ready_recent (dataset, updated_at): the recently Ready
            // slices only, however long the history.
            var page: [SliceRecord] = []
            for dataset in datasets.sorted() where cursor.map({ dataset >= $0.dataset }) ?? true {
                let after = cursor.flatMap { $0.dataset == dataset ? $0 : nil }
                let rows = try c.query("""
                    SELECT \(SliceRecord.columns) FROM slices
                    WHERE dataset = $1 AND state = 'Ready' AND changed_at IS NULL AND updated_at >= $2
                      AND ($3::timestamptz IS NULL OR (updated_at, id) > ($3::timestamptz, $4::bigint))
                    ORDER BY updated_at, id LIMIT $5
                    """, [.text(dataset), .timestamp(since), PostgresValue(after?.readyAt), PostgresValue(after?.sliceID),
                          .integer(Int64(limit - page.count))])
                page += rows.compactMap(SliceRecord.init(row:))
                if page.count >= limit { break }
            }
            return page
        }
    }

    @discardableResult
    public func recordDataChanges(_ changes: [SliceDataChange], now: Instant) async throws -> Int {
        guard !changes.isEmpty else { return 0 }
        return try await database.write { c in
            var marked = 0
            var events: [NewAuditEvent] = []
            for change in changes {
                guard let record = try c.query("SELECT \(SliceRecord.columns) FROM slices WHERE id = $1 FOR UPDATE", [.integer(change.sliceID)])
                    .first.flatMap(SliceRecord.init(row:)),
                      record.status == .ready, record.changedAt == nil, record.fingerprint == change.recorded else { continue }
                marked += try c.execute("""
                    UPDATE slices SET changed_at = $1, changed_fingerprint = $2, message = $3, updated_at = $1
                    WHERE id = $4 AND state = 'Ready' AND changed_at IS NULL
                    """, [.timestamp(now), PostgresText.json(change.now), .text(change.detail), .integer(change.sliceID)])
                events.append(NewAuditEvent(
                    at: now.date, kind: "sliceDataChanged", windowStart: record.slice.start.date,
                    detail: PostgresText.json(["dataset": record.dataset, "message": change.detail,
                                               "files": change.now?.files.count, "bytes": change.now?.totalBytes])))
            }
            // Appended last, as in recordChecks.
            for event in events { try c.appendEvent(event) }
            return marked
        }
    }

    /// A list of names as one parameter (split in SQL on the unit separator, which names never contain).
    static func list(_ names: [String]) -> PostgresValue {
        .text(names.joined(separator: "\u{1F}"))
    }
}
