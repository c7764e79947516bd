import Foundation
import RefitCore

/// One row of `slices`: an external dataset slice and its availability checks.
public struct SliceRecord: Hashable, Sendable {
    public var id: Int64
    public var dataset: String
    public var slice: Slice
    public var status: WindowStatus
    public var substate: WindowSubstate?
    public var fingerprint: DataFingerprint?
    public var checkCount: Int
    public var nextCheckAt: Instant?
    public var message: String?
    public var updatedAt: Instant?

    /// The check state machine for this row under the dataset's current policies.
    public func check(policy: Dataset.ExternalDataPolicy?, validation: Dataset.ValidationPolicy?) -> ExternalSliceCheck {
        ExternalSliceCheck(status: status, substate: substate, checkCount: checkCount, nextCheckAt: nextCheckAt,
                           fingerprint: fingerprint, lastMessage: message, policy: policy ?? Dataset.ExternalDataPolicy(),
                           validation: validation)
    }

    static let columns = "id, dataset, slice_start, slice_end, state, substate, fingerprint, check_count, next_check_at, message, updated_at"

    init?(row: Row) {
        guard let id = row.int64("id"), let dataset = row.string("dataset"),
              let start = StoreText.instant(row, "slice_start"), let end = StoreText.instant(row, "slice_end"),
              let status = row.string("state").flatMap(WindowStatus.init(rawValue:)) else { return nil }
        self.id = id
        self.dataset = dataset
        slice = Slice(start: start, end: end)
        self.status = status
        substate = row.string("substate").flatMap(WindowSubstate.init(rawValue:))
        fingerprint = row.string("fingerprint").flatMap { try? JSONDecoder().decode(DataFingerprint.self, from: Data($0.utf8)) }
        checkCount = row.int("check_count") ?? 0
        nextCheckAt = StoreText.instant(row, "next_check_at")
        message = row.string("message")
        updatedAt = StoreText.instant(row, "updated_at")
    }
}

/// External dataset slices: created lazily when a due window needs them, probed when their
/// next check is due, Ready with the data's fingerprint (D11).
public struct SliceRepository: Sendable {
    public let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    /// Creates the slices that do not exist yet, each with its first check time. Returns how many were new.
    @discardableResult
    public func ensure(dataset: String, slices wanted: [(slice: Slice, check: ExternalSliceCheck)], now: Instant) throws -> Int {
        guard let first = wanted.first else { return 0 }
        // The worker asks for every waiting window's slices on every tick, and nearly all exist:
        // one indexed read of the span skips them, so the write transaction (and its lock) is
        // only taken for new ones. ON CONFLICT below still covers a concurrent insert.
        let lower = wanted.reduce(first.slice.start) { min($0, $1.slice.start) }
        let upper = wanted.reduce(first.slice.start) { max($0, $1.slice.start) }
        let existing = Set(try database.query("""
            SELECT slice_start FROM slices WHERE dataset = ? AND slice_start >= ? AND slice_start <= ?
            """, [.text(dataset), StoreText.text(lower), StoreText.text(upper)]).compactMap { StoreText.instant($0, "slice_start") })
        let slices = wanted.filter { !existing.contains($0.slice.start) }
        guard !slices.isEmpty else { return 0 }
        return try database.transaction { c in
            let insert = try c.prepare("""
                INSERT INTO slices (dataset, slice_start, slice_end, state, substate, check_count, next_check_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (dataset, slice_start) DO NOTHING
                """)
            var inserted = 0
            for (slice, check) in slices {
                insert.reset()
                try insert.bind([.text(dataset), StoreText.text(slice.start), StoreText.text(slice.end), .text(check.status.rawValue),
                                 SQLiteValue(check.substate?.rawValue), StoreText.text(check.nextCheckAt), StoreText.text(now)])
                try insert.run()
                inserted += c.changes
            }
            return inserted
        }
    }

    /// Slices of `datasets` whose next check is due at `now`, oldest check first. Slices of
    /// datasets no longer defined are left out, so they neither take the batch nor keep a
    /// worker waking for them.
    public func dueChecks(now: Instant, datasets: [String], limit: Int = 10_000) throws -> [SliceRecord] {
        guard !datasets.isEmpty else { return [] }
        return try database.query("""
            SELECT \(SliceRecord.columns) FROM slices WHERE state = 'Waiting' AND next_check_at <= ?
              AND dataset IN (\(Self.marks(datasets.count)))
            ORDER BY next_check_at, dataset, slice_start LIMIT ?
            """, [StoreText.text(now)] + datasets.map { .text($0) } + [.integer(Int64(limit))]).compactMap(SliceRecord.init(row:))
    }

    static func marks(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    /// Waiting slices of `datasets` that were checked at least once and whose next check is after
    /// `now`: what a storage change notification lets the worker re-check early. Slices never
    /// checked are left alone, so `dataDelay` still holds.
    public func waitingBetweenChecks(datasets: [String], now: Instant, limit: Int = 10_000) throws -> [SliceRecord] {
        guard !datasets.isEmpty else { return [] }
        return try database.query("""
            SELECT \(SliceRecord.columns) FROM slices
            WHERE state = 'Waiting' AND check_count > 0 AND next_check_at > ? AND dataset IN (\(Self.marks(datasets.count)))
            ORDER BY dataset, slice_start LIMIT ?
            """, [StoreText.text(now)] + datasets.map { .text($0) } + [.integer(Int64(limit))]).compactMap(SliceRecord.init(row:))
    }

    /// Records the checks of one probe in one transaction (each as `record(id:check:now:)`).
    public func record(_ checks: [(id: Int64, check: ExternalSliceCheck)], now: Instant) throws {
        guard !checks.isEmpty else { return }
        try database.transaction { _ in
            for item in checks { try record(id: item.id, check: item.check, now: now) }
        }
    }

    /// Records one check's result (from `ExternalSliceCheck`) and its audit event, if the slice
    /// is still Waiting (another worker may have checked it meanwhile).
    public func record(id: Int64, check: ExternalSliceCheck, now: Instant) throws {
        try database.transaction { c in
            guard let row = try c.query("SELECT \(SliceRecord.columns) FROM slices WHERE id = ?", [.integer(id)]).first,
                  let record = SliceRecord(row: row) else { return }
            let fingerprint = try check.fingerprint.map { fingerprint -> String in
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                return String(decoding: try encoder.encode(fingerprint), as: UTF8.self)
            }
            let changed = try c.execute("""
                UPDATE slices SET state = ?, substate = ?, fingerprint = ?, check_count = ?, next_check_at = ?, message = ?, updated_at = ?
                WHERE id = ? AND state = 'Waiting' AND check_count = ?
                """, [.text(check.status.rawValue), SQLiteValue(check.substate?.rawValue), SQLiteValue(fingerprint),
                      .integer(Int64(check.checkCount)), StoreText.text(check.nextCheckAt), SQLiteValue(check.lastMessage),
                      StoreText.text(now), .integer(id), .integer(Int64(record.checkCount))])
            guard changed == 1 else { return }
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "sliceChecked", windowStart: record.slice.start.date,
                detail: StoreText.json(["dataset": record.dataset, "status": check.status.rawValue,
                                        "substate": check.substate?.rawValue, "checks": check.checkCount,
                                        "message": check.lastMessage, "files": check.fingerprint?.files.count])))
        }
    }

    /// Starts of the dataset's Ready slices in `[from, to)`.
    public func readyStarts(dataset: String, from: Instant, to: Instant) throws -> Set<Instant> {
        Set(try database.query("""
            SELECT slice_start FROM slices WHERE dataset = ? AND state = 'Ready' AND slice_start >= ? AND slice_start < ?
            """, [.text(dataset), StoreText.text(from), StoreText.text(to)]).compactMap { StoreText.instant($0, "slice_start") })
    }

    /// The earliest next check of a Waiting slice of `datasets`.
    public func nextCheckTime(datasets: [String]) throws -> Instant? {
        guard !datasets.isEmpty else { return nil }
        return try database.query("SELECT min(next_check_at) AS t FROM slices WHERE state = 'Waiting' AND dataset IN (\(Self.marks(datasets.count)))",
                                  datasets.map { .text($0) }).first.flatMap { StoreText.instant($0, "t") }
    }

    /// Slices of the given datasets, oldest first, optionally filtered (for `refit slices`).
    public func slices(datasets: [String], status: WindowStatus? = nil, from: Instant? = nil, to: Instant? = nil) throws -> [SliceRecord] {
        var all: [SliceRecord] = []
        for dataset in datasets {
            all += try database.query("""
                SELECT \(SliceRecord.columns) FROM slices
                WHERE dataset = :dataset AND (:status IS NULL OR state = :status)
                  AND (:from IS NULL OR slice_end > :from) AND (:to IS NULL OR slice_start < :to)
                ORDER BY slice_start
                """, named: ["dataset": .text(dataset), "status": SQLiteValue(status?.rawValue),
                             "from": StoreText.text(from), "to": StoreText.text(to)]).compactMap(SliceRecord.init(row:))
        }
        return all.sorted { ($0.slice.start, $0.dataset) < ($1.slice.start, $1.dataset) }
    }
}
