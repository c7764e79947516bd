import Foundation
import RefitCore

/// External dataset slices: which checks are due, and recording what a probe found.
extension SQLiteSchedulingStore {
    static func marks(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    public func dueChecks(now: Instant, datasets: [String], limit: Int) async throws -> [SliceRecord] {
        guard !datasets.isEmpty else { return [] }
        return try await database.read { c in
            try c.query("""
                SELECT \(SliceRecord.columns) FROM slices INDEXED BY slices_waiting_next
                WHERE state = 'Waiting' AND next_check_at <= ? AND dataset IN (\(Self.marks(datasets.count)))
                ORDER BY next_check_at, dataset, slice_start LIMIT ?
                """, [StoreText.text(now)] + datasets.map { .text($0) } + [.integer(Int64(limit))],
                decode: SliceRecord.init(statement:))
        }
    }

    public func waitingBetweenChecks(datasets: [String], now: Instant, limit: Int) async throws -> [SliceRecord] {
        guard !datasets.isEmpty else { return [] }
        return try await database.read { c in
            try c.query("""
                SELECT \(SliceRecord.columns) FROM slices
                WHERE state = 'Waiting' AND check_count > 0 AND next_check_at > ? AND dataset IN (\(Self.marks(datasets.count)))
                ORDER BY dataset, slice_start LIMIT ?
                """, [StoreText.text(now)] + datasets.map { .text($0) } + [.integer(Int64(limit))],
                decode: SliceRecord.init(statement:))
        }
    }

    public func recordChecks(_ checks: [SliceCheckUpdate], now: Instant) async throws {
        guard !checks.isEmpty else { return }
        try await database.write { c in
            for update in checks {
                guard let record = try c.query("SELECT \(SliceRecord.columns) FROM slices WHERE id = ?", [.integer(update.sliceID)],
                                               decode: SliceRecord.init(statement:)).first else { continue }
                let check = update.check
                let changed = try c.execute("""
                    UPDATE slices SET state = ?, substate = ?, fingerprint = ?, check_count = ?, next_check_at = ?, message = ?, updated_at = ?
                    WHERE id = ? AND state = 'Waiting' AND check_count = ?
                    """, [.text(check.status.rawValue), SQLiteValue(check.substate?.rawValue), StoreText.json(check.fingerprint),
                          .integer(Int64(check.checkCount)), StoreText.text(check.nextCheckAt), SQLiteValue(check.lastMessage),
                          StoreText.text(now), .integer(update.sliceID), .integer(Int64(update.seenCheckCount))])
                guard changed == 1 else { continue }
                if check.status == .ready && record.status != .ready {
                    try Readiness.sliceChanged(c, dataset: record.dataset, start: record.slice.start, ready: true, now: now)
                }
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "sliceChecked", windowStart: record.slice.start.date,
                    detail: StoreText.json(["dataset": record.dataset, "status": check.status.rawValue,
                                            "substate": check.substate?.rawValue, "checks": check.checkCount,
                                            "message": check.lastMessage, "files": check.fingerprint?.files.count])))
            }
        }
    }

    public func nextCheckTime(datasets: [String]) async throws -> Instant? {
        guard !datasets.isEmpty else { return nil }
        return try await database.read { c in
            // Walks the waiting-checks index in time order and stops at the first slice of these
            // datasets (a min() over the datasets' rows would read every waiting slice).
            try c.query("""
                SELECT next_check_at AS t FROM slices INDEXED BY slices_waiting_next
                WHERE state = 'Waiting' AND next_check_at IS NOT NULL AND dataset IN (\(Self.marks(datasets.count)))
                ORDER BY next_check_at LIMIT 1
                """, datasets.map { .text($0) }).first.flatMap { StoreText.instant($0, "t") }
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
                    SELECT \(SliceRecord.columns) FROM slices INDEXED BY slices_ready_recent
                    WHERE dataset = ? AND state = 'Ready' AND changed_at IS NULL AND updated_at >= ?
                      AND (? IS NULL OR (updated_at, id) > (?, ?))
                    ORDER BY updated_at, id LIMIT ?
                    """, [.text(dataset), StoreText.text(since), StoreText.text(after?.readyAt), StoreText.text(after?.readyAt),
                          after.map { .integer($0.sliceID) } ?? .null, .integer(Int64(limit - page.count))],
                    decode: SliceRecord.init(statement:))
                page += rows
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
            for change in changes {
                guard let record = try c.query("SELECT \(SliceRecord.columns) FROM slices WHERE id = ?", [.integer(change.sliceID)],
                                               decode: SliceRecord.init(statement:)).first,
                      record.status == .ready, record.changedAt == nil, record.fingerprint == change.recorded else { continue }
                marked += try c.execute("""
                    UPDATE slices SET changed_at = ?, changed_fingerprint = ?, message = ?, updated_at = ?
                    WHERE id = ? AND state = 'Ready' AND changed_at IS NULL
                    """, [StoreText.text(now), StoreText.json(change.now), .text(change.detail), StoreText.text(now),
                          .integer(change.sliceID)])
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "sliceDataChanged", windowStart: record.slice.start.date,
                    detail: StoreText.json(["dataset": record.dataset, "message": change.detail,
                                            "files": change.now?.files.count, "bytes": change.now?.totalBytes])))
            }
            return marked
        }
    }
}
