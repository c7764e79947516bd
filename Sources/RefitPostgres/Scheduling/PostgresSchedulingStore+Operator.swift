import Foundation
import RefitCore
import RefitStore

/// Operator actions (`OperatorStore`) on PostgreSQL, as `SQLiteSchedulingStore` has them: each is
/// one transaction — a refusal (a window missing or running) rolls back every change before it —
/// and every change is audited with the actor and the reason. Window rows are locked as they are
/// read, so a worker on another host cannot claim one between the check and the change.
extension PostgresSchedulingStore: OperatorStore {
    public func rerun(_ targets: [WindowTarget], budget: @escaping @Sendable (ActivityKey) -> RetryBudget, request: OperatorRequest,
                      now: Instant) async throws -> [WindowRecord] {
        try await database.write { c in
            var changed: [WindowRecord] = []
            var events: [NewAuditEvent] = []
            for target in targets {
                // Read inside the loop: rerunning an upstream window changes its consumers' counts.
                guard let record = try Self.window(c, target.key, start: target.start, lock: true) else {
                    throw OperatorRefusal.windowNotFound(target)
                }
                var machine = record.machine(budget(target.key))
                guard machine.rerunRequested(now) == .checkDependencies else { throw OperatorRefusal.windowRunning(target) }
                if record.missingInputs == 0 { _ = machine.dependenciesReady() }
                try Self.writeOperatorMachine(c, machine, record: record, priority: 1, now: now)
                let rearmed = try Self.rearmInputs(c, windowID: record.id, now: now)
                events.append(NewAuditEvent(
                    at: now.date, kind: "windowRerun", pipeline: target.key.pipeline, activity: target.key.activity,
                    windowStart: target.start.date,
                    detail: PostgresText.json(["from": record.status.rawValue, "actor": request.actor, "reason": request.reason,
                                               "slicesRearmed": rearmed])))
                changed.append(record)
            }
            for event in events { try c.appendEvent(event) }
            return changed
        }
    }

    public func skip(_ targets: [WindowTarget], request: OperatorRequest, now: Instant) async throws -> [WindowRecord] {
        try await database.write { c in
            var changed: [WindowRecord] = []
            var events: [NewAuditEvent] = []
            for target in targets {
                guard let record = try Self.window(c, target.key, start: target.start, lock: true) else {
                    throw OperatorRefusal.windowNotFound(target)
                }
                if record.status == .skipped { continue }
                var machine = record.machine(RetryBudget(ActivityPolicy()))
                guard machine.skipRequested() == .markSkipped else { throw OperatorRefusal.windowRunning(target) }
                try Self.writeOperatorMachine(c, machine, record: record, priority: 0, now: now)
                events.append(NewAuditEvent(
                    at: now.date, kind: "windowSkipped", pipeline: target.key.pipeline, activity: target.key.activity,
                    windowStart: target.start.date,
                    detail: PostgresText.json(["from": record.status.rawValue, "actor": request.actor, "reason": request.reason])))
                changed.append(record)
            }
            for event in events { try c.appendEvent(event) }
            return changed
        }
    }

    public func setPaused(pipeline: String, paused: Bool, request: OperatorRequest, now: Instant) async throws {
        try await database.write { c in
            try Self.setPaused(c, pipeline, paused: paused, actor: request.actor, reason: request.reason, now: now)
        }
    }

    public func startBackfill(_ backfill: BackfillRequest, windows: [BackfillWindow], now: Instant) async throws -> BackfillRecord {
        try await database.write { c in
            let activities = String(decoding: try JSONSerialization.data(withJSONObject: backfill.activities), as: UTF8.self)
            guard let id = try c.query("""
                INSERT INTO backfills (pipeline, activities, "from", "to", mode, "order", reason, actor, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
                """, [.text(backfill.pipeline), .text(activities), .timestamp(backfill.from), .timestamp(backfill.to),
                      .text(backfill.mode.rawValue), .text(backfill.order.rawValue), PostgresValue(backfill.request.reason),
                      .text(backfill.request.actor), .timestamp(now)]).first?.int64("id") else {
                throw StoreError(.other, "The backfill could not be recorded.")
            }
            var outputsRecorded = Set<ActivityKey>()
            var created = 0, queued = 0, tracked = 0
            for entry in windows {
                if outputsRecorded.insert(entry.key).inserted { try Self.recordOutputs(c, entry.key, entry.outputs) }
                var record = try Self.window(c, entry.key, start: entry.window.start, lock: true)
                if record == nil {
                    // Before the watermark (or not materialized yet): create exactly this window.
                    var machine = WindowStateMachine(dueAt: entry.dueAt, budget: entry.budget, trigger: .backfill)
                    _ = machine.timeArrived(now)
                    try c.execute("""
                        INSERT INTO windows (pipeline, activity, window_start, window_end, state, substate, attempts, long_retry_round,
                                             next_attempt_at, next_trigger, priority, definition_sha256, updated_at, missing_inputs)
                        VALUES ($1, $2, $3, $4, 'Waiting', $5, 0, 0, $6, 'backfill', $7, $8, $9, NULL)
                        """, [.text(entry.key.pipeline), .text(entry.key.activity), .timestamp(entry.window.start),
                              .timestamp(entry.window.end), PostgresValue(machine.substate?.rawValue),
                              PostgresValue(machine.nextAttemptAt), .integer(Int64(entry.priority)),
                              PostgresValue(entry.definitionSHA256), .timestamp(now)])
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
                                UPDATE windows SET next_trigger = $1, priority = greatest(priority, $2), updated_at = $3
                                WHERE id = $4 AND state = 'Waiting'
                                """, [.text(machine.nextTrigger.rawValue), .integer(Int64(entry.priority)), .timestamp(now),
                                      .integer(existing.id)])
                            queued += 1
                        } else {
                            tracked += 1 // InProgress: it is already running; the backfill waits for it.
                        }
                    }
                }
                guard let windowID = record?.id else { continue }
                try c.execute("INSERT INTO backfill_windows (backfill_id, window_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                              [.integer(id), .integer(windowID)])
            }
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "backfillStarted", pipeline: backfill.pipeline, windowStart: backfill.from.date,
                detail: PostgresText.json(["backfill": id, "from": backfill.from.iso8601, "to": backfill.to.iso8601,
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

    static func setPaused(_ c: PostgresConnection, _ pipeline: String, paused: Bool, actor: String?, reason: String?, now: Instant) throws {
        try c.execute("""
            INSERT INTO pipeline_controls (pipeline, paused, reason, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (pipeline) DO UPDATE SET paused = excluded.paused, reason = excluded.reason, updated_at = excluded.updated_at
            """, [.text(pipeline), PostgresValue(paused), PostgresValue(reason), .timestamp(now)])
        try c.appendEvent(NewAuditEvent(at: now.date, kind: paused ? "pipelinePaused" : "pipelineResumed", pipeline: pipeline,
                                        detail: PostgresText.json(["reason": reason, "actor": actor])))
    }

    static func backfills(_ c: PostgresConnection, id: Int64?) throws -> [BackfillRecord] {
        try c.query("""
            SELECT b.id, b.pipeline, b.activities, b."from" AS range_from, b."to" AS range_to, b.mode, b."order" AS range_order,
                   b.reason, b.actor, b.created_at,
                   count(w.id) AS total,
                   count(*) FILTER (WHERE w.state IN ('Ready', 'Skipped')) AS done,
                   count(*) FILTER (WHERE w.state = 'Failed') AS failed,
                   count(*) FILTER (WHERE w.state = 'InProgress') AS running,
                   count(*) FILTER (WHERE w.state = 'Waiting') AS waiting
            FROM backfills b LEFT JOIN backfill_windows bw ON bw.backfill_id = b.id LEFT JOIN windows w ON w.id = bw.window_id
            WHERE $1::bigint IS NULL OR b.id = $1::bigint
            GROUP BY b.id ORDER BY b.id DESC
            """, [PostgresValue(id)]).compactMap { row -> BackfillRecord? in
            guard let id = row.int64("id"), let pipeline = row.string("pipeline"),
                  let from = row.instant("range_from"), let to = row.instant("range_to"),
                  let mode = row.string("mode").flatMap(BackfillMode.init(rawValue:)),
                  let order = row.string("range_order").flatMap(BackfillOrder.init(rawValue:)),
                  let createdAt = row.instant("created_at") else { return nil }
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
    /// saw, sets its claim priority, and moves its consumers' readiness when it entered or left Ready.
    static func writeOperatorMachine(_ c: PostgresConnection, _ machine: WindowStateMachine, record: WindowRecord, priority: Int,
                                     now: Instant) throws {
        let changed = try c.execute("""
            UPDATE windows SET state = $1, substate = $2, attempts = $3, long_retry_round = $4, next_attempt_at = $5,
                next_trigger = $6, priority = $7, updated_at = $8
            WHERE id = $9 AND state = $10 AND attempts = $11 AND lease_owner IS NULL
            """, [.text(machine.status.rawValue), PostgresValue(machine.substate?.rawValue), .integer(Int64(machine.attempts)),
                  .integer(Int64(machine.longRetryRound)), PostgresValue(machine.nextAttemptAt),
                  .text(machine.nextTrigger.rawValue), .integer(Int64(priority)), .timestamp(now), .integer(record.id),
                  .text(record.status.rawValue), .integer(Int64(record.attempts))])
        guard changed == 1 else { throw OperatorRefusal.windowRunning(WindowTarget(key: record.key, start: record.window.start)) }
        try PostgresReadiness.windowChanged(c, record, from: record.status, to: machine.status, now: now)
    }
}
