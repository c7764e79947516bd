import Foundation
import RefitCore

/// Attempts and leases: claim, renew, finish, release, recover.
extension SQLiteSchedulingStore {
    public func claim(_ request: ClaimRequest, now: Instant) async throws -> ClaimedAttempt? {
        try await database.write { c -> ClaimedAttempt? in
            guard let record = try Self.window(c, id: request.windowID) else { return nil }
            let running = try c.query("SELECT count(*) AS n FROM windows WHERE pipeline = ? AND activity = ? AND state = 'InProgress'",
                                      [.text(record.key.pipeline), .text(record.key.activity)]).first?.int("n") ?? 0
            guard running < max(1, request.concurrency), record.leaseOwner == nil, record.missingInputs == 0 else { return nil }
            var machine = record.machine(request.budget)
            // A window created before its due time still carries ScheduleTime once it is due.
            if machine.timeArrived(now) == .checkDependencies { _ = machine.dependenciesReady() }
            guard case .dispatch(let attempt, let trigger) = machine.claimed(now) else { return nil }
            let leaseUntil = now + request.leaseDuration
            let changed = try c.execute("""
                UPDATE windows SET state = 'InProgress', substate = NULL, attempts = ?, lease_owner = ?, lease_expires_at = ?,
                    priority = 0, updated_at = ?
                WHERE id = ? AND state = 'Waiting' AND next_attempt_at <= ? AND lease_owner IS NULL AND attempts = ?
                  AND missing_inputs = 0
                """, [.integer(Int64(attempt)), .text(request.workerID), StoreText.text(leaseUntil), StoreText.text(now),
                      .integer(request.windowID), StoreText.text(now), .integer(Int64(record.attempts))])
            guard changed == 1 else { return nil }
            try c.execute("""
                INSERT INTO runs (run_id, window_id, attempt, "trigger", status, worker_id, started_at, definition_sha256)
                VALUES (?, ?, ?, ?, 'InProgress', ?, ?, ?)
                """, [.text(request.runID), .integer(request.windowID), .integer(Int64(attempt)), .text(trigger.rawValue),
                      .text(request.workerID), StoreText.text(now), .text(request.definitionSHA256)])
            // What this attempt reads: the data fingerprints seen, or the runs that produced it.
            // CROSS JOIN fixes the join order (output → producing window → its runs): left to
            // itself, the planner walks every Succeeded run instead, a cost that grows with history.
            try c.execute("""
                INSERT INTO run_inputs (run_id, dataset, slice_start, slice_end, fingerprint, producer_run_id)
                SELECT ?1, i.dataset, i.slice_start, i.slice_end,
                       (SELECT s.fingerprint FROM slices s WHERE s.dataset = i.dataset AND s.slice_start = i.slice_start),
                       (SELECT r.run_id FROM activity_outputs o
                          CROSS JOIN windows pw ON pw.pipeline = o.pipeline AND pw.activity = o.activity AND pw.window_start = i.slice_start
                          CROSS JOIN runs r ON r.window_id = pw.id AND r.status = 'Succeeded'
                        WHERE o.dataset = i.dataset ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1)
                FROM window_inputs i WHERE i.window_id = ?2
                """, [.text(request.runID), .integer(request.windowID)])
            // Before the event: locks are taken activity, endpoint, then the audit chain, on every path.
            let endpointClaim = try request.endpoint.map {
                try Self.claimEndpoint(c, $0, runID: request.runID, modelWindowStart: record.window.start, now: now)
            }
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "attemptStarted", pipeline: record.key.pipeline, activity: record.key.activity,
                windowStart: record.window.start.date, runID: request.runID,
                detail: StoreText.json(["attempt": attempt, "trigger": trigger.rawValue, "worker": request.workerID])))
            return ClaimedAttempt(windowID: request.windowID, key: record.key, window: record.window, runID: request.runID,
                                  attempt: attempt, trigger: trigger, definitionSHA256: request.definitionSHA256,
                                  leaseExpiresAt: leaseUntil, endpointClaim: endpointClaim)
        }
    }

    public func renewLease(windowID: Int64, workerID: String, until: Instant, now: Instant) async throws -> Bool {
        try await database.run { c in
            try c.execute("""
                UPDATE windows SET lease_expires_at = ?, updated_at = ?
                WHERE id = ? AND lease_owner = ? AND state = 'InProgress' AND lease_expires_at >= ?
                """, [StoreText.text(until), StoreText.text(now), .integer(windowID), .text(workerID), StoreText.text(now)]) == 1
        }
    }

    public func recordExternalJob(runID: String, jobID: String) async throws {
        try await database.run { c in
            _ = try c.execute("UPDATE runs SET external_job_id = ? WHERE run_id = ? AND external_job_id IS NOT ?",
                              [.text(jobID), .text(runID), .text(jobID)])
        }
    }

    public func finish(runID: String, workerID: String, outcome: AttemptOutcome, budget: RetryBudget,
                       now: Instant) async throws -> FinishedAttempt? {
        try await writingHandedOverSteps(of: runID) { c -> FinishedAttempt? in
            guard let run = try c.query("SELECT window_id, status FROM runs WHERE run_id = ?", [.text(runID)]).first,
                  let windowID = run.int64("window_id"), let record = try Self.window(c, id: windowID) else { return nil }
            guard run.string("status") == RunStatus.inProgress.rawValue, record.status == .inProgress, record.leaseOwner == workerID else {
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "lateResult", pipeline: record.key.pipeline, activity: record.key.activity,
                    windowStart: record.window.start.date, runID: runID,
                    detail: StoreText.json(["worker": workerID, "outcome": outcome.summary,
                                            "note": "the lease was lost before the attempt finished; the result was not applied"])))
                return FinishedAttempt(windowID: windowID, status: record.status, substate: record.substate, action: .none, applied: false)
            }
            var machine = record.machine(budget)
            var superseded: String?
            var externalJobID: String?
            var resultJSON: String?
            if case .succeeded(let result) = outcome {
                externalJobID = result.externalJobID
                resultJSON = try Self.validJSON(c, result.resultJSON)
                for output in result.outputs {
                    try c.execute("""
                        INSERT INTO outputs (run_id, name, location, evaluation, created_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (run_id, name) DO NOTHING
                        """, [.text(runID), .text(output.name), .text(output.location),
                              SQLiteValue(try Self.validJSON(c, output.evaluationJSON)), StoreText.text(now)])
                }
                if let deployment = result.deployment {
                    superseded = try Self.supersededReason(c, deployment)
                    if superseded == nil { try Self.insertDeployment(c, deployment, runID: runID, now: now) }
                }
            }
            let (plan, action) = RunRowPlan.apply(outcome, to: &machine, at: now, superseded: superseded)
            try Self.writeMachine(c, machine, record: record, now: now)
            try c.execute("""
                UPDATE runs SET status = ?, substatus = ?, ended_at = ?, error_class = ?, error_message = ?,
                    external_job_id = COALESCE(?, external_job_id), result = ?
                WHERE run_id = ?
                """, [.text(plan.status.rawValue), SQLiteValue(plan.substatus?.rawValue), StoreText.text(now),
                      SQLiteValue(plan.errorClass?.rawValue), SQLiteValue(plan.message), SQLiteValue(externalJobID),
                      SQLiteValue(resultJSON), .text(runID)])
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "attemptFinished", pipeline: record.key.pipeline, activity: record.key.activity,
                windowStart: record.window.start.date, runID: runID,
                detail: StoreText.json(["status": plan.status.rawValue, "substatus": plan.substatus?.rawValue, "error": plan.message,
                                        "window": machine.status.rawValue, "windowSubstate": machine.substate?.rawValue,
                                        "attempts": machine.attempts])))
            return FinishedAttempt(windowID: windowID, status: machine.status, substate: machine.substate, action: action, applied: true)
        }
    }

    public func release(runID: String, workerID: String, budget: RetryBudget, now: Instant) async throws {
        try await writingHandedOverSteps(of: runID) { c in
            guard let run = try c.query("SELECT window_id FROM runs WHERE run_id = ? AND status = 'InProgress'", [.text(runID)]).first,
                  let windowID = run.int64("window_id"), let record = try Self.window(c, id: windowID),
                  record.leaseOwner == workerID else { return }
            var machine = record.machine(budget)
            _ = machine.released(at: now)
            try Self.writeMachine(c, machine, record: record, now: now)
            try c.execute("""
                UPDATE runs SET status = ?, ended_at = ?, error_class = ?,
                    error_message = 'The worker stopped before the attempt finished; the window was given back without using its retry budget.'
                WHERE run_id = ?
                """, [.text(RunStatus.failed.rawValue), StoreText.text(now), .text(RunErrorClass.interrupted.rawValue), .text(runID)])
            try c.appendEvent(NewAuditEvent(at: now.date, kind: "leaseReleased", pipeline: record.key.pipeline,
                                            activity: record.key.activity, windowStart: record.window.start.date, runID: runID,
                                            detail: StoreText.json(["worker": workerID])))
        }
    }

    /// One write transaction that first writes the journal steps the run's attempt handed over
    /// (`SQLiteStepJournal.handOver()`), then `body`: the attempt's last steps and its outcome
    /// commit together. Steps that cannot be written (a result whose intent is missing) are left
    /// out rather than keeping the outcome from being recorded, as a crash before them would; a
    /// transaction that fails gives them back for the next try.
    private func writingHandedOverSteps<T: Sendable>(of runID: String,
                                                     _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let steps = handedOverSteps.take(runID: runID)
        do {
            return try await database.write { c in
                if !steps.isEmpty {
                    do {
                        try c.transaction { try SQLiteStepJournal.write(steps, runID: runID, $0) }
                    } catch is StepJournalError {
                        // Left out (see above); the savepoint undid any part of them.
                    }
                }
                return try body(c)
            }
        } catch {
            handedOverSteps.putBack(steps, runID: runID)
            throw error
        }
    }

    public func leaseOwners() async throws -> Set<String> {
        try await database.read { c in
            Set(try c.query("SELECT DISTINCT lease_owner FROM windows WHERE lease_owner IS NOT NULL").compactMap { $0.string("lease_owner") })
        }
    }

    public func recoverLeases(now: Instant, deadOwners: Set<String>,
                              budget: @escaping @Sendable (ActivityKey) -> RetryBudget) async throws -> [WindowRecord] {
        try await database.run { c in
            var lost = try c.query("""
                SELECT \(WindowRecord.columns) FROM windows INDEXED BY windows_leases
                WHERE lease_owner IS NOT NULL AND lease_expires_at < ? ORDER BY id
                """, [StoreText.text(now)]).compactMap(WindowRecord.init(row:))
            for owner in deadOwners.sorted() {
                // Along windows_leases (the leased windows only), not a scan of every window.
                lost += try c.query("""
                    SELECT \(WindowRecord.columns) FROM windows INDEXED BY windows_leases
                    WHERE lease_owner IS NOT NULL AND lease_owner = ? ORDER BY id
                    """, [.text(owner)]).compactMap(WindowRecord.init(row:))
            }
            var recovered: [WindowRecord] = []
            var seen = Set<Int64>()
            for stale in lost where seen.insert(stale.id).inserted {
                let done = try c.transaction { c -> Bool in
                    guard let record = try Self.window(c, id: stale.id), let owner = record.leaseOwner,
                          let expiry = record.leaseExpiresAt, expiry < now || deadOwners.contains(owner) else { return false }
                    let run = try c.query("SELECT run_id, external_job_id FROM runs WHERE window_id = ? AND status = 'InProgress'",
                                          [.integer(record.id)]).first
                    let runID = run?.string("run_id")
                    let job = run?.string("external_job_id")
                    let cancel = try runID.flatMap { id in
                        try c.query("SELECT actor, reason FROM cancel_requests WHERE run_id = ?", [.text(id)]).first
                    }
                    // A job resumed by the next attempt makes one attempt with it — once per job.
                    let resumable: Bool
                    if let job, cancel == nil {
                        resumable = try c.query("""
                            SELECT 1 FROM runs WHERE window_id = ? AND external_job_id = ? AND error_class = ? LIMIT 1
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
                        UPDATE runs SET status = ?, ended_at = max(started_at, ?), error_class = ?, error_message = ?,
                            substatus = coalesce(?, substatus)
                        WHERE window_id = ? AND status = 'InProgress'
                        """, [.text(plan.status.rawValue), StoreText.text(now), SQLiteValue(plan.errorClass?.rawValue),
                              SQLiteValue(plan.message), SQLiteValue(plan.substatus?.rawValue), .integer(record.id)])
                    try c.appendEvent(NewAuditEvent(
                        at: now.date, kind: "leaseExpired", pipeline: record.key.pipeline, activity: record.key.activity,
                        windowStart: record.window.start.date, runID: runID,
                        detail: StoreText.json(["worker": owner, "attempts": machine.attempts, "window": machine.status.rawValue,
                                                "retry": action != .markFailed, "ownerGone": deadOwners.contains(owner),
                                                "charged": !resumable])))
                    return true
                }
                if done { recovered.append(stale) }
            }
            return recovered
        }
    }

    /// Writes the machine's state onto the window row (clearing its lease), and moves the
    /// readiness of its consumers when the window entered or left Ready.
    /// `text` when it is JSON the column's `json_valid` check accepts, else nil (asked of SQLite
    /// itself: the same test as the CHECK, and cheaper than a Foundation parse).
    static func validJSON(_ c: SQLiteConnection, _ text: String?) throws -> String? {
        guard let text else { return nil }
        return try c.query("SELECT json_valid(?) AS ok", [.text(text)]).first?.int("ok") == 1 ? text : nil
    }

    static func writeMachine(_ c: SQLiteConnection, _ machine: WindowStateMachine, record: WindowRecord, now: Instant) throws {
        try c.execute("""
            UPDATE windows SET state = ?, substate = ?, attempts = ?, long_retry_round = ?, next_attempt_at = ?,
                next_trigger = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
            WHERE id = ?
            """, [.text(machine.status.rawValue), SQLiteValue(machine.substate?.rawValue), .integer(Int64(machine.attempts)),
                  .integer(Int64(machine.longRetryRound)), StoreText.text(machine.nextAttemptAt),
                  .text(machine.nextTrigger.rawValue), StoreText.text(now), .integer(record.id)])
        try Readiness.windowChanged(c, record, from: record.status, to: machine.status, now: now)
    }
}
