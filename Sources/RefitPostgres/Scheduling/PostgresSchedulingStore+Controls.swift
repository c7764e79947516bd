import Foundation
import RefitCore
import RefitStore

/// Operator controls: pause and resume labels, reruns, cancel requests.
extension PostgresSchedulingStore {
    public func pausedPipelines() async throws -> Set<String> {
        try await database.read { c in
            Set(try c.query("SELECT pipeline FROM pipeline_controls WHERE paused = 1").compactMap { $0.string("pipeline") })
        }
    }

    /// Pauses or resumes a pipeline for every worker sharing the database (what `refit pause`
    /// and `refit resume` record), audited. Synchronous, for commands and tests.
    public func setPaused(_ pipeline: String, paused: Bool, actor: String? = nil, reason: String? = nil, now: Instant) throws {
        try database.writeNow { c in
            try Self.setPaused(c, pipeline, paused: paused, actor: actor, reason: reason, now: now)
        }
    }

    public func applyPause(pipeline: String, paused: Bool, now: Instant) async throws -> Int {
        try await database.write { c in
            let changed: Int
            if paused {
                changed = try c.execute("""
                    UPDATE windows SET substate = 'ActivityResume', updated_at = $1
                    WHERE pipeline = $2 AND state = 'Waiting' AND (substate IS NULL OR substate <> 'ActivityResume')
                    """, [.timestamp(now), .text(pipeline)])
            } else {
                // Resumed windows wait for their inputs again, or run at once when nothing is missing.
                changed = try c.execute("""
                    UPDATE windows SET substate = CASE WHEN missing_inputs = 0 THEN NULL ELSE 'DatasetDependencies' END, updated_at = $1
                    WHERE pipeline = $2 AND state = 'Waiting' AND substate = 'ActivityResume'
                    """, [.timestamp(now), .text(pipeline)])
            }
            if changed > 0 {
                try c.appendEvent(NewAuditEvent(at: now.date, kind: paused ? "windowsPaused" : "windowsResumed",
                                                pipeline: pipeline, detail: PostgresText.json(["count": changed])))
            }
            return changed
        }
    }

    public func rerun(_ key: ActivityKey, start: Instant, budget: RetryBudget, reason: String, now: Instant) async throws -> Bool {
        try await database.write { c in
            guard let record = try Self.window(c, key, start: start, lock: true) else { return false }
            var machine = record.machine(budget)
            guard machine.rerunRequested(now) == .checkDependencies else { return false }
            if record.missingInputs == 0 { _ = machine.dependenciesReady() }
            let changed = try c.execute("""
                UPDATE windows SET state = $1, substate = $2, attempts = $3, long_retry_round = $4, next_attempt_at = $5,
                    next_trigger = $6, priority = 1, updated_at = $7
                WHERE id = $8 AND state = $9 AND attempts = $10
                """, [.text(machine.status.rawValue), PostgresValue(machine.substate?.rawValue), .integer(Int64(machine.attempts)),
                      .integer(Int64(machine.longRetryRound)), PostgresValue(machine.nextAttemptAt),
                      .text(machine.nextTrigger.rawValue), .timestamp(now), .integer(record.id),
                      .text(record.status.rawValue), .integer(Int64(record.attempts))])
            guard changed == 1 else { return false }
            try PostgresReadiness.windowChanged(c, record, from: record.status, to: machine.status, now: now)
            // Input slices that failed for late or invalid data, or whose data changed, are checked again.
            let rearmed = try Self.rearmInputs(c, windowID: record.id, now: now)
            try c.appendEvent(NewAuditEvent(at: now.date, kind: "windowRerun", pipeline: key.pipeline, activity: key.activity,
                                            windowStart: start.date,
                                            detail: PostgresText.json(["from": record.status.rawValue, "reason": reason,
                                                                       "slicesRearmed": rearmed])))
            return true
        }
    }

    /// The external input slices of a window being rerun are checked again when they failed
    /// (late or invalid data) or are Ready with data that changed since: Waiting, checks from the
    /// first, now. A changed Ready slice stops counting as Ready for its consumers until the check
    /// finds its data. Returns how many were re-armed.
    static func rearmInputs(_ c: PostgresConnection, windowID: Int64, now: Instant) throws -> Int {
        let slices = try c.query("""
            SELECT \(SliceRecord.columns) FROM slices
            WHERE (state = 'Failed' OR (state = 'Ready' AND changed_at IS NOT NULL)) AND id IN
                (SELECT s.id FROM window_inputs i JOIN slices s ON s.dataset = i.dataset AND s.slice_start = i.slice_start
                 WHERE i.window_id = $1)
            ORDER BY id
            """, [.integer(windowID)]).compactMap(SliceRecord.init(row:))
        var rearmed = 0
        for slice in slices {
            var check = slice.check(policy: nil, validation: nil)
            guard case .scheduleCheck = check.rearmed(now, dataChanged: slice.changedAt != nil) else { continue }
            let changed = try c.execute("""
                UPDATE slices SET state = $1, substate = $2, fingerprint = $3, check_count = $4, next_check_at = $5, message = $6,
                    changed_at = NULL, changed_fingerprint = NULL, updated_at = $7
                WHERE id = $8 AND state = $9
                """, [.text(check.status.rawValue), PostgresValue(check.substate?.rawValue), PostgresText.json(check.fingerprint),
                      .integer(Int64(check.checkCount)), PostgresValue(check.nextCheckAt), PostgresValue(check.lastMessage),
                      .timestamp(now), .integer(slice.id), .text(slice.status.rawValue)])
            guard changed == 1 else { continue }
            if slice.status == .ready {
                try PostgresReadiness.sliceChanged(c, dataset: slice.dataset, start: slice.slice.start, ready: false, now: now)
            }
            rearmed += 1
        }
        return rearmed
    }

    public func cancelRequest(runID: String) async throws -> CancelRequest? {
        try await database.read { c in
            try c.query("SELECT run_id, actor, reason, requested_at FROM cancel_requests WHERE run_id = $1", [.text(runID)]).first
                .flatMap { row in
                    guard let at = row.instant("requested_at") else { return nil }
                    return CancelRequest(runID: runID, actor: row.string("actor") ?? "operator", reason: row.string("reason"), requestedAt: at)
                }
        }
    }

    public func requestCancel(runID: String, actor: String, reason: String?, now: Instant) async throws -> CancelRequestResult {
        try await database.write { c in
            guard let run = try c.query("""
                SELECT r.status, w.id AS window_id, w.pipeline, w.activity, w.window_start, w.lease_owner
                FROM runs r JOIN windows w ON w.id = r.window_id WHERE r.run_id = $1
                """, [.text(runID)]).first else { return .unknownRun }
            let status = run.string("status") ?? ""
            guard status == RunStatus.inProgress.rawValue else { return .notRunning(status: status) }
            try c.execute("""
                INSERT INTO cancel_requests (run_id, requested_at, actor, reason) VALUES ($1, $2, $3, $4)
                ON CONFLICT (run_id) DO NOTHING
                """, [.text(runID), .timestamp(now), .text(actor), PostgresValue(reason)])
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "cancelRequested", pipeline: run.string("pipeline"), activity: run.string("activity"),
                windowStart: run.instant("window_start")?.date, runID: runID,
                detail: PostgresText.json(["actor": actor, "reason": reason, "owner": run.string("lease_owner")])))
            return .requested(owner: run.string("lease_owner"))
        }
    }
}
