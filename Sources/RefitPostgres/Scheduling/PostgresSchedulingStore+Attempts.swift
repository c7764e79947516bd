import Foundation
import RefitCore
import RefitStore

/// Attempts and leases: claim, renew, finish, release, recover.
extension PostgresSchedulingStore {
    public func claim(_ request: ClaimRequest, now: Instant) async throws -> ClaimedAttempt? {
        try await database.write { c -> ClaimedAttempt? in
            // A row another host is claiming right now is skipped, not waited for.
            guard let record = try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = $1 FOR UPDATE SKIP LOCKED",
                                           [.integer(request.windowID)]).first.flatMap(WindowRecord.init(row:)) else { return nil }
            guard record.leaseOwner == nil, record.missingInputs == 0 else { return nil }
            // One claimer per activity counts and claims at a time, on every host: the cap holds.
            try c.advisoryLock("refit:activity:\(record.key.pipeline)/\(record.key.activity)")
            let running = try c.query("SELECT count(*) AS n FROM windows WHERE pipeline = $1 AND activity = $2 AND state = 'InProgress'",
                                      [.text(record.key.pipeline), .text(record.key.activity)]).first?.int("n") ?? 0
            guard running < max(1, request.concurrency) else { return nil }
            var machine = record.machine(request.budget)
            // A window created before its due time still carries ScheduleTime once it is due.
            if machine.timeArrived(now) == .checkDependencies { _ = machine.dependenciesReady() }
            guard case .dispatch(let attempt, let trigger) = machine.claimed(now) else { return nil }
            let leaseNow = try self.leaseNow(c, now)
            let changed = try c.execute("""
                UPDATE windows SET state = 'InProgress', substate = NULL, attempts = $1, lease_owner = $2, lease_expires_at = $3,
                    priority = 0, updated_at = $4
                WHERE id = $5 AND state = 'Waiting' AND next_attempt_at <= $4 AND lease_owner IS NULL AND attempts = $6
                  AND missing_inputs = 0
                """, [.integer(Int64(attempt)), .text(request.workerID), .timestamp(leaseNow + request.leaseDuration), .timestamp(now),
                      .integer(request.windowID), .integer(Int64(record.attempts))])
            guard changed == 1 else { return nil }
            try c.execute("""
                INSERT INTO runs (run_id, window_id, attempt, "trigger", status, worker_id, started_at, definition_sha256)
                VALUES ($1, $2, $3, $4, 'InProgress', $5, $6, $7)
                """, [.text(request.runID), .integer(request.windowID), .integer(Int64(attempt)), .text(trigger.rawValue),
                      .text(request.workerID), .timestamp(now), .text(request.definitionSHA256)])
            // What this attempt reads: the data fingerprints seen, or the runs that produced it.
            try c.execute("""
                INSERT INTO run_inputs (run_id, dataset, slice_start, slice_end, fingerprint, producer_run_id)
                SELECT $1, i.dataset, i.slice_start, i.slice_end,
                       (SELECT s.fingerprint FROM slices s WHERE s.dataset = i.dataset AND s.slice_start = i.slice_start),
                       (SELECT r.run_id FROM activity_outputs o
                          JOIN windows pw ON pw.pipeline = o.pipeline AND pw.activity = o.activity AND pw.window_start = i.slice_start
                          JOIN runs r ON r.window_id = pw.id AND r.status = 'Succeeded'
                        WHERE o.dataset = i.dataset ORDER BY r.started_at DESC, r.seq DESC LIMIT 1)
                FROM window_inputs i WHERE i.window_id = $2
                """, [.text(request.runID), .integer(request.windowID)])
            // Before the event: locks are taken activity, endpoint, then the audit chain, on every path.
            let endpointClaim = try request.endpoint.map {
                try Self.claimEndpoint(c, $0, runID: request.runID, modelWindowStart: record.window.start, now: now)
            }
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "attemptStarted", pipeline: record.key.pipeline, activity: record.key.activity,
                windowStart: record.window.start.date, runID: request.runID,
                detail: PostgresText.json(["attempt": attempt, "trigger": trigger.rawValue, "worker": request.workerID])))
            return ClaimedAttempt(windowID: request.windowID, key: record.key, window: record.window, runID: request.runID,
                                  attempt: attempt, trigger: trigger, definitionSHA256: request.definitionSHA256,
                                  leaseExpiresAt: now + request.leaseDuration, endpointClaim: endpointClaim)
        }
    }

    public func renewLease(windowID: Int64, workerID: String, until: Instant, now: Instant) async throws -> Bool {
        try await database.write { c in
            // The caller asks for `until - now` more; the lease clock says from when.
            let leaseNow = try self.leaseNow(c, now)
            return try c.execute("""
                UPDATE windows SET lease_expires_at = $1, updated_at = $2
                WHERE id = $3 AND lease_owner = $4 AND state = 'InProgress' AND lease_expires_at >= $5
                """, [.timestamp(leaseNow + (until - now)), .timestamp(now), .integer(windowID), .text(workerID),
                      .timestamp(leaseNow)]) == 1
        }
    }

    public func recordExternalJob(runID: String, jobID: String) async throws {
        try await database.write { c in
            _ = try c.execute("UPDATE runs SET external_job_id = $1 WHERE run_id = $2 AND external_job_id IS DISTINCT FROM $1",
                              [.text(jobID), .text(runID)])
        }
    }

    public func finish(runID: String, workerID: String, outcome: AttemptOutcome, budget: RetryBudget,
                       now: Instant) async throws -> FinishedAttempt? {
        try await database.write { c -> FinishedAttempt? in
            guard let windowID = try c.query("SELECT window_id FROM runs WHERE run_id = $1", [.text(runID)]).first?.int64("window_id"),
                  let record = try Self.window(c, id: windowID, lock: true),
                  let run = try c.query("SELECT status FROM runs WHERE run_id = $1", [.text(runID)]).first else { return nil }
            guard run.string("status") == RunStatus.inProgress.rawValue, record.status == .inProgress, record.leaseOwner == workerID else {
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "lateResult", pipeline: record.key.pipeline, activity: record.key.activity,
                    windowStart: record.window.start.date, runID: runID,
                    detail: PostgresText.json(["worker": workerID, "outcome": outcome.summary,
                                               "note": "the lease was lost before the attempt finished; the result was not applied"])))
                return FinishedAttempt(windowID: windowID, status: record.status, substate: record.substate, action: .none, applied: false)
            }
            var machine = record.machine(budget)
            var superseded: String?
            var externalJobID: String?
            var resultJSON: String?
            if case .succeeded(let result) = outcome {
                externalJobID = result.externalJobID
                resultJSON = result.resultJSON.flatMap { PostgresText.isValidJSON($0) ? $0 : nil }
                for output in result.outputs {
                    try c.execute("""
                        INSERT INTO outputs (run_id, name, location, evaluation, created_at) VALUES ($1, $2, $3, $4, $5)
                        ON CONFLICT (run_id, name) DO NOTHING
                        """, [.text(runID), .text(output.name), .text(output.location),
                              PostgresValue(output.evaluationJSON.flatMap { PostgresText.isValidJSON($0) ? $0 : nil }), .timestamp(now)])
                }
                if let deployment = result.deployment {
                    superseded = try Self.supersededReason(c, deployment)
                    if superseded == nil { try Self.insertDeployment(c, deployment, runID: runID, now: now) }
                }
            }
            let (plan, action) = RunRowPlan.apply(outcome, to: &machine, at: now, superseded: superseded)
            try Self.writeMachine(c, machine, record: record, now: now)
            try c.execute("""
                UPDATE runs SET status = $1, substatus = $2, ended_at = greatest(started_at, $3), error_class = $4, error_message = $5,
                    external_job_id = COALESCE($6, external_job_id), result = $7
                WHERE run_id = $8
                """, [.text(plan.status.rawValue), PostgresValue(plan.substatus?.rawValue), .timestamp(now),
                      PostgresValue(plan.errorClass?.rawValue), PostgresValue(plan.message), PostgresValue(externalJobID),
                      PostgresValue(resultJSON), .text(runID)])
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "attemptFinished", pipeline: record.key.pipeline, activity: record.key.activity,
                windowStart: record.window.start.date, runID: runID,
                detail: PostgresText.json(["status": plan.status.rawValue, "substatus": plan.substatus?.rawValue, "error": plan.message,
                                           "window": machine.status.rawValue, "windowSubstate": machine.substate?.rawValue,
                                           "attempts": machine.attempts])))
            return FinishedAttempt(windowID: windowID, status: machine.status, substate: machine.substate, action: action, applied: true)
        }
    }

    public func release(runID: String, workerID: String, budget: RetryBudget, now: Instant) async throws {
        try await database.write { c in
            guard let windowID = try c.query("SELECT window_id FROM runs WHERE run_id = $1 AND status = 'InProgress'",
                                             [.text(runID)]).first?.int64("window_id"),
                  let record = try Self.window(c, id: windowID, lock: true), record.leaseOwner == workerID,
                  try !c.query("SELECT 1 FROM runs WHERE run_id = $1 AND status = 'InProgress'", [.text(runID)]).isEmpty
            else { return }
            var machine = record.machine(budget)
            _ = machine.released(at: now)
            try Self.writeMachine(c, machine, record: record, now: now)
            try c.execute("""
                UPDATE runs SET status = $1, ended_at = greatest(started_at, $2), error_class = $3,
                    error_message = 'The worker stopped before the attempt finished; the window was given back without using its retry budget.'
                WHERE run_id = $4
                """, [.text(RunStatus.failed.rawValue), .timestamp(now), .text(RunErrorClass.interrupted.rawValue), .text(runID)])
            try c.appendEvent(NewAuditEvent(at: now.date, kind: "leaseReleased", pipeline: record.key.pipeline,
                                            activity: record.key.activity, windowStart: record.window.start.date, runID: runID,
                                            detail: PostgresText.json(["worker": workerID])))
        }
    }

    public func leaseOwners() async throws -> Set<String> {
        try await database.read { c in
            Set(try c.query("SELECT DISTINCT lease_owner FROM windows WHERE lease_owner IS NOT NULL").compactMap { $0.string("lease_owner") })
        }
    }

    public func recoverLeases(now: Instant, deadOwners: Set<String>,
                              budget: @escaping @Sendable (ActivityKey) -> RetryBudget) async throws -> [WindowRecord] {
        let lost = try await database.read { c -> [WindowRecord] in
            let leaseNow = try self.leaseNow(c, now)
            var lost = try c.query("""
                SELECT \(WindowRecord.columns) FROM windows
                WHERE lease_owner IS NOT NULL AND lease_expires_at < $1 ORDER BY id
                """, [.timestamp(leaseNow)]).compactMap(WindowRecord.init(row:))
            for owner in deadOwners.sorted() {
                lost += try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE lease_owner = $1 ORDER BY id", [.text(owner)])
                    .compactMap(WindowRecord.init(row:))
            }
            return lost
        }
        var recovered: [WindowRecord] = []
        var seen = Set<Int64>()
        // Each window in its own transaction, decided again on its locked row.
        for stale in lost where seen.insert(stale.id).inserted {
            let done = try await database.write { c -> Bool in
                let leaseNow = try self.leaseNow(c, now)
                guard let record = try Self.window(c, id: stale.id, lock: true), let owner = record.leaseOwner,
                      let stamped = record.leaseExpiresAt, stamped < leaseNow || deadOwners.contains(owner) else { return false }
                // The expiry in the caller's time, for the message and the owner-gone rule.
                let expiry = now + (stamped - leaseNow)
                let run = try c.query("SELECT run_id, external_job_id FROM runs WHERE window_id = $1 AND status = 'InProgress'",
                                      [.integer(record.id)]).first
                let runID = run?.string("run_id")
                let job = run?.string("external_job_id")
                let cancel = try runID.flatMap { id in
                    try c.query("SELECT actor, reason FROM cancel_requests WHERE run_id = $1", [.text(id)]).first
                }
                // A job resumed by the next attempt makes one attempt with it — once per job.
                let resumable: Bool
                if let job, cancel == nil {
                    resumable = try c.query("""
                        SELECT 1 FROM runs WHERE window_id = $1 AND external_job_id = $2 AND error_class = $3 LIMIT 1
                        """, [.integer(record.id), .text(job), .text(RunErrorClass.crash.rawValue)]).isEmpty
                } else {
                    resumable = false
                }
                var machine = record.machine(budget(record.key))
                let request = cancel.map { row in
                    CancelRequest(runID: runID ?? "", actor: row.string("actor") ?? "an operator", reason: row.string("reason"), requestedAt: now)
                }
                let (plan, action) = LeaseRecovery.apply(to: &machine, owner: owner, expiry: expiry, now: now,
                                                         ownerGone: deadOwners.contains(owner), cancel: request,
                                                         resumableJob: resumable ? job : nil)
                try Self.writeMachine(c, machine, record: record, now: now)
                try c.execute("""
                    UPDATE runs SET status = $1, ended_at = greatest(started_at, $2), error_class = $3, error_message = $4,
                        substatus = coalesce($5, substatus)
                    WHERE window_id = $6 AND status = 'InProgress'
                    """, [.text(plan.status.rawValue), .timestamp(now), PostgresValue(plan.errorClass?.rawValue),
                          PostgresValue(plan.message), PostgresValue(plan.substatus?.rawValue), .integer(record.id)])
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "leaseExpired", pipeline: record.key.pipeline, activity: record.key.activity,
                    windowStart: record.window.start.date, runID: runID,
                    detail: PostgresText.json(["worker": owner, "attempts": machine.attempts, "window": machine.status.rawValue,
                                               "retry": action != .markFailed, "ownerGone": deadOwners.contains(owner),
                                               "charged": !resumable])))
                return true
            }
            if done { recovered.append(stale) }
        }
        return recovered
    }

    /// Writes the machine's state onto the window row (clearing its lease), and moves the
    /// readiness of its consumers when the window entered or left Ready.
    static func writeMachine(_ c: PostgresConnection, _ machine: WindowStateMachine, record: WindowRecord, now: Instant) throws {
        try c.execute("""
            UPDATE windows SET state = $1, substate = $2, attempts = $3, long_retry_round = $4, next_attempt_at = $5,
                next_trigger = $6, lease_owner = NULL, lease_expires_at = NULL, updated_at = $7
            WHERE id = $8
            """, [.text(machine.status.rawValue), PostgresValue(machine.substate?.rawValue), .integer(Int64(machine.attempts)),
                  .integer(Int64(machine.longRetryRound)), PostgresValue(machine.nextAttemptAt),
                  .text(machine.nextTrigger.rawValue), .timestamp(now), .integer(record.id)])
        try PostgresReadiness.windowChanged(c, record, from: record.status, to: machine.status, now: now)
    }
}
