import Foundation
import RefitCore

/// Operator controls: pause and resume labels, reruns.
extension SQLiteSchedulingStore {
    public func pausedPipelines() async throws -> Set<String> {
        try await database.read { c in
            Set(try c.query("SELECT pipeline FROM pipeline_controls WHERE paused = 1").compactMap { $0.string("pipeline") })
        }
    }

    public func applyPause(pipeline: String, paused: Bool, now: Instant) async throws -> Int {
        try await database.write { c in
            let changed: Int
            if paused {
                changed = try c.execute("""
                    UPDATE windows SET substate = 'ActivityResume', updated_at = ?
                    WHERE pipeline = ? AND state = 'Waiting' AND (substate IS NULL OR substate <> 'ActivityResume')
                    """, [StoreText.text(now), .text(pipeline)])
            } else {
                // Resumed windows wait for their inputs again, or run at once when nothing is missing.
                changed = try c.execute("""
                    UPDATE windows SET substate = CASE WHEN missing_inputs = 0 THEN NULL ELSE 'DatasetDependencies' END, updated_at = ?
                    WHERE pipeline = ? AND state = 'Waiting' AND substate = 'ActivityResume'
                    """, [StoreText.text(now), .text(pipeline)])
            }
            if changed > 0 {
                try c.appendEvent(NewAuditEvent(at: now.date, kind: paused ? "windowsPaused" : "windowsResumed",
                                                pipeline: pipeline, detail: StoreText.json(["count": changed])))
            }
            return changed
        }
    }

    public func rerun(_ key: ActivityKey, start: Instant, budget: RetryBudget, reason: String, now: Instant) async throws -> Bool {
        try await database.write { c in
            guard let record = try Self.window(c, key, start: start) else { return false }
            var machine = record.machine(budget)
            guard machine.rerunRequested(now) == .checkDependencies else { return false }
            if record.missingInputs == 0 { _ = machine.dependenciesReady() }
            let changed = try c.execute("""
                UPDATE windows SET state = ?, substate = ?, attempts = ?, long_retry_round = ?, next_attempt_at = ?,
                    next_trigger = ?, priority = 1, updated_at = ?
                WHERE id = ? AND state = ? AND attempts = ?
                """, [.text(machine.status.rawValue), SQLiteValue(machine.substate?.rawValue), .integer(Int64(machine.attempts)),
                      .integer(Int64(machine.longRetryRound)), StoreText.text(machine.nextAttemptAt),
                      .text(machine.nextTrigger.rawValue), StoreText.text(now), .integer(record.id),
                      .text(record.status.rawValue), .integer(Int64(record.attempts))])
            guard changed == 1 else { return false }
            try Readiness.windowChanged(c, record, from: record.status, to: machine.status, now: now)
            // Input slices that failed for late or invalid data, or whose data changed, are checked again.
            let rearmed = try Self.rearmInputs(c, windowID: record.id, now: now)
            try c.appendEvent(NewAuditEvent(at: now.date, kind: "windowRerun", pipeline: key.pipeline, activity: key.activity,
                                            windowStart: start.date,
                                            detail: StoreText.json(["from": record.status.rawValue, "reason": reason,
                                                                    "slicesRearmed": rearmed])))
            return true
        }
    }
}

/// Operator cancellation of running attempts.
extension SQLiteSchedulingStore {
    public func cancelRequest(runID: String) async throws -> CancelRequest? {
        try await database.read { c in
            try c.query("SELECT run_id, actor, reason, requested_at FROM cancel_requests WHERE run_id = ?", [.text(runID)]).first
                .flatMap { row in
                    guard let at = StoreText.instant(row, "requested_at") else { return nil }
                    return CancelRequest(runID: runID, actor: row.string("actor") ?? "operator", reason: row.string("reason"), requestedAt: at)
                }
        }
    }

    public func requestCancel(runID: String, actor: String, reason: String?, now: Instant) async throws -> CancelRequestResult {
        try await database.write { c in
            guard let run = try c.query("""
                SELECT r.status, w.id AS window_id, w.pipeline, w.activity, w.window_start, w.lease_owner
                FROM runs r JOIN windows w ON w.id = r.window_id WHERE r.run_id = ?
                """, [.text(runID)]).first else { return .unknownRun }
            let status = run.string("status") ?? ""
            guard status == RunStatus.inProgress.rawValue else { return .notRunning(status: status) }
            try c.execute("""
                INSERT INTO cancel_requests (run_id, requested_at, actor, reason) VALUES (?, ?, ?, ?)
                ON CONFLICT (run_id) DO NOTHING
                """, [.text(runID), StoreText.text(now), .text(actor), SQLiteValue(reason)])
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "cancelRequested", pipeline: run.string("pipeline"), activity: run.string("activity"),
                windowStart: StoreText.instant(run, "window_start")?.date, runID: runID,
                detail: StoreText.json(["actor": actor, "reason": reason, "owner": run.string("lease_owner")])))
            return .requested(owner: run.string("lease_owner"))
        }
    }
}
