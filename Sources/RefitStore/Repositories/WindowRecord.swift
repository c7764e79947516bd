import RefitCore

extension WindowRecord {
    static let columns = """
        id, pipeline, activity, window_start, window_end, state, substate, attempts, long_retry_round,
        next_attempt_at, next_trigger, priority, lease_owner, lease_expires_at, definition_sha256, updated_at, missing_inputs
        """

    init?(row: Row) {
        guard let id = row.int64("id"), let pipeline = row.string("pipeline"), let activity = row.string("activity"),
              let start = StoreText.instant(row, "window_start"), let end = StoreText.instant(row, "window_end"),
              let status = row.string("state").flatMap(WindowStatus.init(rawValue:)) else { return nil }
        self.init(id: id, key: ActivityKey(pipeline: pipeline, activity: activity), window: Slice(start: start, end: end),
                  status: status, substate: row.string("substate").flatMap(WindowSubstate.init(rawValue:)),
                  attempts: row.int("attempts") ?? 0, longRetryRound: row.int("long_retry_round") ?? 0,
                  nextAttemptAt: StoreText.instant(row, "next_attempt_at"),
                  nextTrigger: row.string("next_trigger").flatMap(RunTrigger.init(rawValue:)) ?? .schedule,
                  priority: row.int("priority") ?? 0, leaseOwner: row.string("lease_owner"),
                  leaseExpiresAt: StoreText.instant(row, "lease_expires_at"), definitionSHA256: row.string("definition_sha256"),
                  updatedAt: StoreText.instant(row, "updated_at"), missingInputs: row.int("missing_inputs"))
    }
}

extension SliceRecord {
    static let columns = "id, dataset, slice_start, slice_end, state, substate, fingerprint, check_count, next_check_at, message, updated_at, changed_at"

    /// Decodes a row selected with `columns`, in that order, read in place (the changed-data
    /// sweep reads every recently Ready slice on each pass). Agrees with `init(row:)`.
    init?(statement s: Statement) {
        func instant(_ column: Int32) -> Instant? { s.withText(at: column, Instant.parse(utf8:)) }
        guard let id = s.int64(at: 0), let dataset = s.text(at: 1), let start = instant(2), let end = instant(3),
              let status = s.withText(at: 4, { WindowStatus(rawValue: String(decoding: $0, as: UTF8.self)) }) else { return nil }
        self.init(id: id, dataset: dataset, slice: Slice(start: start, end: end), status: status,
                  substate: s.withText(at: 5) { WindowSubstate(rawValue: String(decoding: $0, as: UTF8.self)) },
                  fingerprint: s.withText(at: 6, DataFingerprint.init(storedJSONBytes:)),
                  checkCount: s.int64(at: 7).map { Int($0) } ?? 0, nextCheckAt: instant(8),
                  message: s.text(at: 9), updatedAt: instant(10), changedAt: instant(11))
    }

    init?(row: Row) {
        guard let id = row.int64("id"), let dataset = row.string("dataset"),
              let start = StoreText.instant(row, "slice_start"), let end = StoreText.instant(row, "slice_end"),
              let status = row.string("state").flatMap(WindowStatus.init(rawValue:)) else { return nil }
        self.init(id: id, dataset: dataset, slice: Slice(start: start, end: end), status: status,
                  substate: row.string("substate").flatMap(WindowSubstate.init(rawValue:)),
                  fingerprint: row.string("fingerprint").flatMap(StoreText.fingerprint),
                  checkCount: row.int("check_count") ?? 0, nextCheckAt: StoreText.instant(row, "next_check_at"),
                  message: row.string("message"), updatedAt: StoreText.instant(row, "updated_at"),
                  changedAt: StoreText.instant(row, "changed_at"))
    }
}
