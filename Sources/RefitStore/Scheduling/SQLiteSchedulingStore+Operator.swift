import Foundation
import RefitCore

/// Operator actions (`OperatorStore`): reruns and skips of several windows at once, pause and
/// resume, backfills. Each is one transaction: a refusal (a window missing or running) rolls
/// back every change before it, and every change is audited with the actor and the reason.
extension SQLiteSchedulingStore: OperatorStore {
    public func rerun(_ targets: [WindowTarget], budget: @escaping @Sendable (ActivityKey) -> RetryBudget, request: OperatorRequest,
                      now: Instant) async throws -> [WindowRecord] {
        try await database.write { c in
            var changed: [WindowRecord] = []
            for target in targets {
                // Read inside the loop: rerunning an upstream window changes its consumers' counts.
                guard let record = try Self.window(c, target.key, start: target.start) else { throw OperatorRefusal.windowNotFound(target) }
                var machine = record.machine(budget(target.key))
                guard machine.rerunRequested(now) == .checkDependencies else { throw OperatorRefusal.windowRunning(target) }
                if record.missingInputs == 0 { _ = machine.dependenciesReady() }
                try Self.writeOperatorMachine(c, machine, record: record, priority: 1, now: now)
                let rearmed = try Self.rearmInputs(c, windowID: record.id, now: now)
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "windowRerun", pipeline: target.key.pipeline, activity: target.key.activity,
                    windowStart: target.start.date,
                    detail: StoreText.json(["from": record.status.rawValue, "actor": request.actor, "reason": request.reason,
                                            "slicesRearmed": rearmed])))
                changed.append(record)
            }
            return changed
        }
    }

    public func skip(_ targets: [WindowTarget], request: OperatorRequest, now: Instant) async throws -> [WindowRecord] {
        try await database.write { c in
            var changed: [WindowRecord] = []
            for target in targets {
                guard let record = try Self.window(c, target.key, start: target.start) else { throw OperatorRefusal.windowNotFound(target) }
                if record.status == .skipped { continue }
                var machine = record.machine(RetryBudget(ActivityPolicy()))
                guard machine.skipRequested() == .markSkipped else { throw OperatorRefusal.windowRunning(target) }
                try Self.writeOperatorMachine(c, machine, record: record, priority: 0, now: now)
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "windowSkipped", pipeline: target.key.pipeline, activity: target.key.activity,
                    windowStart: target.start.date,
                    detail: StoreText.json(["from": record.status.rawValue, "actor": request.actor, "reason": request.reason])))
                changed.append(record)
            }
            return changed
        }
    }

    public func setPaused(pipeline: String, paused: Bool, request: OperatorRequest, now: Instant) async throws {
        try await database.write { c in
            try PipelineControlRepository.setPaused(c, pipeline, paused: paused, actor: request.actor, reason: request.reason, now: now)
        }
    }

    public func startBackfill(_ backfill: BackfillRequest, windows: [BackfillWindow], now: Instant) async throws -> BackfillRecord {
        try await database.write { c in
            let activities = String(decoding: try JSONSerialization.data(withJSONObject: backfill.activities), as: UTF8.self)
            try c.execute("""
                INSERT INTO backfills (pipeline, activities, "from", "to", mode, "order", reason, actor, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(backfill.pipeline), .text(activities), StoreText.text(backfill.from), StoreText.text(backfill.to),
                      .text(backfill.mode.rawValue), .text(backfill.order.rawValue), SQLiteValue(backfill.request.reason),
                      .text(backfill.request.actor), StoreText.text(now)])
            let id = c.lastInsertRowID
            var outputsRecorded = Set<ActivityKey>()
            var created = 0, queued = 0, tracked = 0
            for entry in windows {
                if outputsRecorded.insert(entry.key).inserted { try Self.recordOutputs(c, entry.key, entry.outputs) }
                var record = try Self.window(c, entry.key, start: entry.window.start)
                if record == nil {
                    // Before the watermark (or not materialized yet): create exactly this window.
                    var machine = WindowStateMachine(dueAt: entry.dueAt, budget: entry.budget, trigger: .backfill)
                    _ = machine.timeArrived(now)
                    try c.execute("""
                        INSERT INTO windows (pipeline, activity, window_start, window_end, state, substate, attempts, long_retry_round,
                                             next_attempt_at, next_trigger, priority, definition_sha256, updated_at, missing_inputs)
                        VALUES (?, ?, ?, ?, 'Waiting', ?, 0, 0, ?, 'backfill', ?, ?, ?, NULL)
                        """, [.text(entry.key.pipeline), .text(entry.key.activity), StoreText.text(entry.window.start),
                              StoreText.text(entry.window.end), SQLiteValue(machine.substate?.rawValue),
                              StoreText.text(machine.nextAttemptAt), .integer(Int64(entry.priority)),
                              SQLiteValue(entry.definitionSHA256), StoreText.text(now)])
                    created += 1
                    record = try Self.window(c, entry.key, start: entry.window.start)
                } else if let existing = record {
                    guard backfill.mode.selects(existing.status) else { continue }
                    var machine = existing.machine(entry.budget)
                    switch machine.backfillRequested(now) {
                    case .checkDependencies:
                        if existing.missingInputs == 0 { _ = machine.dependenciesReady() }
                        try Self.writeOperatorMachine(c, machine, record: existing, priority: entry.priority, now: now)
                        _ = try Self.rearmInputs(c, windowID: existing.id, now: now)
                        queued += 1
                    default:
                        if existing.status == .waiting {
                            try c.execute("""
                                UPDATE windows SET next_trigger = ?, priority = max(priority, ?), updated_at = ?
                                WHERE id = ? AND state = 'Waiting'
                                """, [.text(machine.nextTrigger.rawValue), .integer(Int64(entry.priority)), StoreText.text(now),
                                      .integer(existing.id)])
                            queued += 1
                        } else {
                            tracked += 1 // InProgress: it is already running; the backfill waits for it.
                        }
                    }
                }
                guard let windowID = record?.id else { continue }
                try c.execute("INSERT INTO backfill_windows (backfill_id, window_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                              [.integer(id), .integer(windowID)])
            }
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "backfillStarted", pipeline: backfill.pipeline, windowStart: backfill.from.date,
                detail: StoreText.json(["backfill": id, "from": backfill.from.iso8601, "to": backfill.to.iso8601,
                                        "mode": backfill.mode.rawValue, "order": backfill.order.rawValue,
                                        "activities": backfill.activities.joined(separator: ","), "created": created,
                                        "queued": queued, "running": tracked, "actor": backfill.request.actor,
                                        "reason": backfill.request.reason])))
            guard let record = try Self.backfills(c, id: id).first else {
                throw StoreError(.other, "The backfill just recorded could not be read back.")
            }
            return record
        }
    }

    public func backfill(id: Int64) async throws -> BackfillRecord? {
        try await database.read { c in try Self.backfills(c, id: id).first }
    }

    public func backfills() async throws -> [BackfillRecord] {
        try await database.read { c in try Self.backfills(c, id: nil) }
    }

    // MARK: Helpers

    static func backfills(_ c: SQLiteConnection, id: Int64?) throws -> [BackfillRecord] {
        try c.query("""
            SELECT b.id, b.pipeline, b.activities, b."from" AS range_from, b."to" AS range_to, b.mode, b."order" AS range_order,
                   b.reason, b.actor, b.created_at,
                   count(w.id) AS total,
                   coalesce(sum(w.state IN ('Ready', 'Skipped')), 0) AS done,
                   coalesce(sum(w.state = 'Failed'), 0) AS failed,
                   coalesce(sum(w.state = 'InProgress'), 0) AS running,
                   coalesce(sum(w.state = 'Waiting'), 0) AS waiting
            FROM backfills b LEFT JOIN backfill_windows bw ON bw.backfill_id = b.id LEFT JOIN windows w ON w.id = bw.window_id
            WHERE ?1 IS NULL OR b.id = ?1
            GROUP BY b.id ORDER BY b.id DESC
            """, [SQLiteValue(id)]).compactMap { row -> BackfillRecord? in
            guard let id = row.int64("id"), let pipeline = row.string("pipeline"),
                  let from = StoreText.instant(row, "range_from"), let to = StoreText.instant(row, "range_to"),
                  let mode = row.string("mode").flatMap(BackfillMode.init(rawValue:)),
                  let order = row.string("range_order").flatMap(BackfillOrder.init(rawValue:)),
                  let createdAt = StoreText.instant(row, "created_at") else { return nil }
            let activities = row.string("activities").flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String]
            } ?? []
            let request = BackfillRequest(pipeline: pipeline, activities: activities, from: from, to: to, mode: mode, order: order,
                                          request: OperatorRequest(actor: row.string("actor") ?? "unknown", reason: row.string("reason")))
            let progress = BackfillProgress(total: row.int("total") ?? 0, done: row.int("done") ?? 0, failed: row.int("failed") ?? 0,
                                            running: row.int("running") ?? 0, waiting: row.int("waiting") ?? 0)
            return BackfillRecord(id: id, backfill: request, createdAt: createdAt, progress: progress)
        }
    }

    /// Writes an operator transition onto the window row if the row is still what the machine
    /// saw, sets its claim priority, and moves its consumers' readiness when it entered or left
    /// Ready.
    static func writeOperatorMachine(_ c: SQLiteConnection, _ machine: WindowStateMachine, record: WindowRecord, priority: Int,
                                     now: Instant) throws {
        let changed = try c.execute("""
            UPDATE windows SET state = ?, substate = ?, attempts = ?, long_retry_round = ?, next_attempt_at = ?,
                next_trigger = ?, priority = ?, updated_at = ?
            WHERE id = ? AND state = ? AND attempts = ? AND lease_owner IS NULL
            """, [.text(machine.status.rawValue), SQLiteValue(machine.substate?.rawValue), .integer(Int64(machine.attempts)),
                  .integer(Int64(machine.longRetryRound)), StoreText.text(machine.nextAttemptAt),
                  .text(machine.nextTrigger.rawValue), .integer(Int64(priority)), StoreText.text(now), .integer(record.id),
                  .text(record.status.rawValue), .integer(Int64(record.attempts))])
        guard changed == 1 else { throw OperatorRefusal.windowRunning(WindowTarget(key: record.key, start: record.window.start)) }
        try Readiness.windowChanged(c, record, from: record.status, to: machine.status, now: now)
    }

    /// Input slices of the window that failed for late or invalid data are checked again.
    /// Returns how many were re-armed.
    /// The external input slices of a window being rerun or backfilled are checked again when
    /// they failed (late or invalid data) or are Ready with data that changed since: Waiting,
    /// checks from the first, now. A changed Ready slice stops counting as Ready for its
    /// consumers until the check finds its data. Returns how many were re-armed.
    static func rearmInputs(_ c: SQLiteConnection, windowID: Int64, now: Instant) throws -> Int {
        let slices = try c.query("""
            SELECT \(SliceRecord.columns) FROM slices
            WHERE (state = 'Failed' OR (state = 'Ready' AND changed_at IS NOT NULL)) AND id IN
                (SELECT s.id FROM window_inputs i JOIN slices s ON s.dataset = i.dataset AND s.slice_start = i.slice_start
                 WHERE i.window_id = ?)
            """, [.integer(windowID)], decode: SliceRecord.init(statement:))
        var rearmed = 0
        for slice in slices {
            var check = slice.check(policy: nil, validation: nil)
            guard case .scheduleCheck = check.rearmed(now, dataChanged: slice.changedAt != nil) else { continue }
            let changed = try c.execute("""
                UPDATE slices SET state = ?, substate = ?, fingerprint = ?, check_count = ?, next_check_at = ?, message = ?,
                    changed_at = NULL, changed_fingerprint = NULL, updated_at = ?
                WHERE id = ? AND state = ?
                """, [.text(check.status.rawValue), SQLiteValue(check.substate?.rawValue), StoreText.json(check.fingerprint),
                      .integer(Int64(check.checkCount)), StoreText.text(check.nextCheckAt), SQLiteValue(check.lastMessage),
                      StoreText.text(now), .integer(slice.id), .text(slice.status.rawValue)])
            guard changed == 1 else { continue }
            if slice.status == .ready {
                try Readiness.sliceChanged(c, dataset: slice.dataset, start: slice.slice.start, ready: false, now: now)
            }
            rearmed += 1
        }
        return rearmed
    }
}
