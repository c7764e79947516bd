import Foundation
import RefitCore

/// Activity windows, leases and attempts: every scheduling write the worker makes. Each method
/// is one short `BEGIN IMMEDIATE` transaction that also appends the audit event describing it;
/// decisions come from `WindowStateMachine`, the SQL only applies them conditionally so two
/// workers on one database can never both win.
public struct WindowRepository: Sendable {
    public let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    // MARK: Materialization

    /// Where materialization of the activity's windows continues (the end of the newest
    /// window created), or nil before the first window.
    public func watermark(_ key: ActivityKey) throws -> Instant? {
        try database.query("SELECT materialized_until FROM watermarks WHERE pipeline = ? AND activity = ?",
                           [.text(key.pipeline), .text(key.activity)]).first.flatMap { StoreText.instant($0, "materialized_until") }
    }

    /// Creates `windows` (existing ones are left alone: `ON CONFLICT DO NOTHING`) and moves the
    /// watermark to `until`, in one transaction. Returns how many rows were new.
    @discardableResult
    public func materialize(_ key: ActivityKey, windows: [NewWindow], until: Instant, definitionSHA256: String,
                            budget: RetryBudget, now: Instant) throws -> Int {
        try database.transaction { c in
            var inserted = 0
            let insert = try c.prepare("""
                INSERT INTO windows (pipeline, activity, window_start, window_end, state, substate, attempts, long_retry_round,
                                     next_attempt_at, next_trigger, definition_sha256, updated_at)
                VALUES (?, ?, ?, ?, 'Waiting', ?, 0, 0, ?, ?, ?, ?)
                ON CONFLICT (pipeline, activity, window_start) DO NOTHING
                """)
            for new in windows {
                var machine = WindowStateMachine(dueAt: new.dueAt, budget: budget, trigger: new.trigger)
                _ = machine.timeArrived(now)
                insert.reset()
                try insert.bind([.text(key.pipeline), .text(key.activity), StoreText.text(new.window.start),
                                 StoreText.text(new.window.end), SQLiteValue(machine.substate?.rawValue),
                                 StoreText.text(machine.nextAttemptAt), .text(new.trigger.rawValue),
                                 .text(definitionSHA256), StoreText.text(now)])
                try insert.run()
                inserted += c.changes
            }
            try c.execute("""
                INSERT INTO watermarks (pipeline, activity, materialized_until, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (pipeline, activity) DO UPDATE SET materialized_until = excluded.materialized_until,
                    updated_at = excluded.updated_at
                WHERE excluded.materialized_until > watermarks.materialized_until
                """, [.text(key.pipeline), .text(key.activity), StoreText.text(until), StoreText.text(now)])
            if inserted > 0, let first = windows.first, let last = windows.last {
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "windowsMaterialized", pipeline: key.pipeline, activity: key.activity,
                    windowStart: first.window.start.date,
                    detail: StoreText.json(["count": inserted, "first": first.window.start.iso8601,
                                            "last": last.window.start.iso8601])))
            }
            return inserted
        }
    }

    // MARK: Reading

    public func window(id: Int64) throws -> WindowRecord? {
        try database.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = ?", [.integer(id)]).first
            .flatMap(WindowRecord.init(row:))
    }

    public func window(_ key: ActivityKey, start: Instant) throws -> WindowRecord? {
        try database.query("SELECT \(WindowRecord.columns) FROM windows WHERE pipeline = ? AND activity = ? AND window_start = ?",
                           [.text(key.pipeline), .text(key.activity), StoreText.text(start)]).first
            .flatMap(WindowRecord.init(row:))
    }

    /// Windows of the activity that could start at `now` if their inputs are Ready: Waiting,
    /// due, not leased, not paused.
    public func claimCandidates(_ key: ActivityKey, now: Instant) throws -> [WindowRecord] {
        try database.query("""
            SELECT \(WindowRecord.columns) FROM windows
            WHERE pipeline = ? AND activity = ? AND state = 'Waiting' AND next_attempt_at <= ? AND lease_owner IS NULL
              AND (substate IS NULL OR substate NOT IN ('ActivityResume', 'ScheduleTime'))
            ORDER BY window_start
            """, [.text(key.pipeline), .text(key.activity), StoreText.text(now)]).compactMap(WindowRecord.init(row:))
    }

    /// Starts of the activity's Ready windows in `[from, to)`: the internal slices they produced.
    public func readyWindowStarts(_ key: ActivityKey, from: Instant, to: Instant) throws -> Set<Instant> {
        Set(try database.query("""
            SELECT window_start FROM windows WHERE pipeline = ? AND activity = ? AND state = 'Ready'
              AND window_start >= ? AND window_start < ?
            """, [.text(key.pipeline), .text(key.activity), StoreText.text(from), StoreText.text(to)])
            .compactMap { StoreText.instant($0, "window_start") })
    }

    /// Attempts in progress per activity, across every worker (what `policy.concurrency` caps).
    public func runningCounts() throws -> [ActivityKey: Int] {
        var counts: [ActivityKey: Int] = [:]
        for row in try database.query(
            "SELECT pipeline, activity, count(*) AS n FROM windows WHERE state = 'InProgress' GROUP BY pipeline, activity") {
            guard let p = row.string("pipeline"), let a = row.string("activity") else { continue }
            counts[ActivityKey(pipeline: p, activity: a)] = row.int("n") ?? 0
        }
        return counts
    }

    /// Windows of a pipeline (for `refit slices`), oldest first, optionally filtered.
    public func windows(pipeline: String, status: WindowStatus? = nil, from: Instant? = nil, to: Instant? = nil) throws -> [WindowRecord] {
        try database.query("""
            SELECT \(WindowRecord.columns) FROM windows
            WHERE pipeline = :pipeline AND (:status IS NULL OR state = :status)
              AND (:from IS NULL OR window_end > :from) AND (:to IS NULL OR window_start < :to)
            ORDER BY window_start, activity
            """, named: ["pipeline": .text(pipeline), "status": SQLiteValue(status?.rawValue),
                         "from": StoreText.text(from), "to": StoreText.text(to)]).compactMap(WindowRecord.init(row:))
    }

    /// The earliest moment after `now` at which a window becomes claimable (a retry or
    /// longRetry delay ends), or another worker's lease expires and needs recovery.
    public func nextWakeTime(after now: Instant, workerID: String) throws -> Instant? {
        let attempt = try database.query("""
            SELECT min(next_attempt_at) AS t FROM windows WHERE state = 'Waiting' AND next_attempt_at > ?
              AND (substate IS NULL OR substate <> 'ActivityResume')
            """, [StoreText.text(now)]).first.flatMap { StoreText.instant($0, "t") }
        let lease = try database.query("""
            SELECT min(lease_expires_at) AS t FROM windows WHERE lease_owner IS NOT NULL AND lease_owner <> ?
            """, [.text(workerID)]).first.flatMap { StoreText.instant($0, "t") }.map { $0 + TimeSpan(seconds: 1) }
        return [attempt, lease].compactMap { $0 }.min()
    }

    // MARK: Labels and operator controls

    /// Updates Waiting windows' substates (DatasetDependencies, ConcurrencyLimit, plain Waiting)
    /// in one transaction. Label changes are not audited: they repeat on every tick.
    public func setWaitingSubstates(_ changes: [(id: Int64, substate: WindowSubstate?)], now: Instant) throws {
        guard !changes.isEmpty else { return }
        try database.transaction { c in
            let update = try c.prepare("""
                UPDATE windows SET substate = ?, updated_at = ?
                WHERE id = ? AND state = 'Waiting' AND substate IS NOT ? AND (substate IS NULL OR substate <> 'ActivityResume')
                """)
            for change in changes {
                update.reset()
                try update.bind([SQLiteValue(change.substate?.rawValue), StoreText.text(now), .integer(change.id),
                                 SQLiteValue(change.substate?.rawValue)])
                try update.run()
            }
        }
    }

    /// Pause (D13) labels every Waiting window ActivityResume; resume sends them back to
    /// DatasetDependencies. Running windows are not touched. Returns the rows changed.
    @discardableResult
    public func applyPause(pipeline: String, paused: Bool, now: Instant) throws -> Int {
        try database.transaction { c in
            let changed: Int
            if paused {
                changed = try c.execute("""
                    UPDATE windows SET substate = 'ActivityResume', updated_at = ?
                    WHERE pipeline = ? AND state = 'Waiting' AND (substate IS NULL OR substate <> 'ActivityResume')
                    """, [StoreText.text(now), .text(pipeline)])
            } else {
                changed = try c.execute("""
                    UPDATE windows SET substate = 'DatasetDependencies', updated_at = ?
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

    /// Rerun (D6) of one window: Waiting with a fresh budget, trigger `rerun`, operator priority.
    /// Returns false when the window does not exist or is running.
    @discardableResult
    public func rerun(_ key: ActivityKey, start: Instant, budget: RetryBudget, now: Instant, reason: String = "rerun") throws -> Bool {
        try database.transaction { c in
            guard let record = try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE pipeline = ? AND activity = ? AND window_start = ?",
                                            [.text(key.pipeline), .text(key.activity), StoreText.text(start)]).first
                .flatMap(WindowRecord.init(row:)) else { return false }
            var machine = record.machine(budget)
            guard machine.rerunRequested(now) == .checkDependencies else { return false }
            let changed = try c.execute("""
                UPDATE windows SET state = ?, substate = ?, attempts = ?, long_retry_round = ?, next_attempt_at = ?,
                    next_trigger = ?, priority = 1, updated_at = ?
                WHERE id = ? AND state <> 'InProgress'
                """, [.text(machine.status.rawValue), SQLiteValue(machine.substate?.rawValue), .integer(Int64(machine.attempts)),
                      .integer(Int64(machine.longRetryRound)), StoreText.text(machine.nextAttemptAt),
                      .text(machine.nextTrigger.rawValue), StoreText.text(now), .integer(record.id)])
            guard changed == 1 else { return false }
            try c.appendEvent(NewAuditEvent(at: now.date, kind: "windowRerun", pipeline: key.pipeline, activity: key.activity,
                                            windowStart: start.date,
                                            detail: StoreText.json(["from": record.status.rawValue, "reason": reason])))
            return true
        }
    }

    // MARK: Attempts

    /// Claims the window for `workerID` and starts an attempt, in one transaction: the
    /// activity's running count is checked against `concurrency`, the window moves
    /// Waiting → InProgress with a conditional UPDATE (due, unleased, unchanged attempts), and
    /// the `runs` row and audit event are inserted. nil when someone else won or a cap is full.
    public func claim(windowID: Int64, workerID: String, runID: String, leaseDuration: TimeSpan, concurrency: Int,
                      budget: RetryBudget, definitionSHA256: String, now: Instant) throws -> ClaimedAttempt? {
        try database.transaction { c -> ClaimedAttempt? in
            guard let record = try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = ?", [.integer(windowID)])
                .first.flatMap(WindowRecord.init(row:)) else { return nil }
            let running = try c.query("SELECT count(*) AS n FROM windows WHERE pipeline = ? AND activity = ? AND state = 'InProgress'",
                                      [.text(record.key.pipeline), .text(record.key.activity)]).first?.int("n") ?? 0
            guard running < max(1, concurrency) else { return nil }
            var machine = record.machine(budget)
            guard case .dispatch(let attempt, let trigger) = machine.claimed(now) else { return nil }
            let leaseUntil = now + leaseDuration
            let changed = try c.execute("""
                UPDATE windows SET state = 'InProgress', substate = NULL, attempts = ?, lease_owner = ?, lease_expires_at = ?,
                    priority = 0, updated_at = ?
                WHERE id = ? AND state = 'Waiting' AND next_attempt_at <= ? AND lease_owner IS NULL AND attempts = ?
                """, [.integer(Int64(attempt)), .text(workerID), StoreText.text(leaseUntil), StoreText.text(now),
                      .integer(windowID), StoreText.text(now), .integer(Int64(record.attempts))])
            guard changed == 1 else { return nil }
            try c.execute("""
                INSERT INTO runs (run_id, window_id, attempt, "trigger", status, worker_id, started_at, definition_sha256)
                VALUES (?, ?, ?, ?, 'InProgress', ?, ?, ?)
                """, [.text(runID), .integer(windowID), .integer(Int64(attempt)), .text(trigger.rawValue), .text(workerID),
                      StoreText.text(now), .text(definitionSHA256)])
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "attemptStarted", pipeline: record.key.pipeline, activity: record.key.activity,
                windowStart: record.window.start.date, runID: runID,
                detail: StoreText.json(["attempt": attempt, "trigger": trigger.rawValue, "worker": workerID])))
            return ClaimedAttempt(windowID: windowID, key: record.key, window: record.window, runID: runID, attempt: attempt,
                                  trigger: trigger, definitionSHA256: definitionSHA256, leaseExpiresAt: leaseUntil)
        }
    }

    /// Extends the lease of a running attempt. false when the lease is no longer ours.
    public func renewLease(windowID: Int64, workerID: String, until: Instant, now: Instant) throws -> Bool {
        try database.execute("""
            UPDATE windows SET lease_expires_at = ?, updated_at = ?
            WHERE id = ? AND lease_owner = ? AND state = 'InProgress' AND lease_expires_at >= ?
            """, [StoreText.text(until), StoreText.text(now), .integer(windowID), .text(workerID), StoreText.text(now)]) == 1
    }

    /// Records how an attempt ended: the run row, the window's next state (from the state
    /// machine: Ready, Retry, LongRetry, Failed…), outputs and deployment, and the audit event,
    /// in one transaction. A result arriving after the lease was lost changes nothing but the
    /// audit log (the recovering worker already counted the attempt).
    public func finish(runID: String, workerID: String, outcome: AttemptOutcome, budget: RetryBudget,
                       now: Instant) throws -> FinishedAttempt? {
        try database.transaction { c -> FinishedAttempt? in
            guard let run = try c.query("SELECT window_id, status FROM runs WHERE run_id = ?", [.text(runID)]).first,
                  let windowID = run.int64("window_id"),
                  let record = try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = ?", [.integer(windowID)])
                    .first.flatMap(WindowRecord.init(row:)) else { return nil }
            guard run.string("status") == "InProgress", record.status == .inProgress, record.leaseOwner == workerID else {
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "lateResult", pipeline: record.key.pipeline, activity: record.key.activity,
                    windowStart: record.window.start.date, runID: runID,
                    detail: StoreText.json(["worker": workerID, "outcome": outcome.summary,
                                            "note": "the lease was lost before the attempt finished; the result was not applied"])))
                return FinishedAttempt(windowID: windowID, status: record.status, substate: record.substate, action: .none, applied: false)
            }
            var machine = record.machine(budget)
            let action: WindowStateMachine.Action
            var runStatus: String
            var runSubstatus: String?
            var errorClass: String?
            var errorMessage: String?
            var externalJobID: String?
            var resultJSON: String?
            switch outcome {
            case .succeeded(let result):
                externalJobID = result.externalJobID
                resultJSON = result.resultJSON.flatMap { StoreText.isValidJSON($0) ? $0 : nil }
                for output in result.outputs {
                    try c.execute("""
                        INSERT INTO outputs (run_id, name, location, evaluation, created_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (run_id, name) DO NOTHING
                        """, [.text(runID), .text(output.name), .text(output.location),
                              SQLiteValue(output.evaluationJSON.flatMap { StoreText.isValidJSON($0) ? $0 : nil }), StoreText.text(now)])
                }
                if let deployment = result.deployment, let reason = try Self.supersededReason(c, deployment) {
                    action = machine.attemptSkipped(.superseded)
                    runStatus = "Skipped"; runSubstatus = WindowSubstate.superseded.rawValue; errorMessage = reason
                } else {
                    if let deployment = result.deployment { try Self.insertDeployment(c, deployment, runID: runID, now: now) }
                    action = machine.attemptSucceeded()
                    runStatus = "Succeeded"
                }
            case .failed(let classification, let message):
                action = machine.attemptFailed(classification, at: now)
                runStatus = "Failed"; errorClass = classification == .terminal ? "terminal" : "transient"; errorMessage = message
            case .timedOut(let message):
                action = machine.attemptTimedOut(at: now)
                runStatus = "TimedOut"; runSubstatus = WindowSubstate.timedOut.rawValue; errorClass = "timeout"; errorMessage = message
            case .canceled(let message):
                action = machine.attemptCanceled()
                runStatus = "Canceled"; runSubstatus = WindowSubstate.canceled.rawValue; errorClass = "canceled"; errorMessage = message
            case .skipped(let substate, let reason):
                action = machine.attemptSkipped(substate)
                runStatus = "Skipped"; runSubstatus = substate?.rawValue; errorMessage = reason
            }
            try Self.writeMachine(c, machine, windowID: windowID, now: now)
            // A failed or timed-out attempt names the external job it worked on too (from its
            // journal's start/poll steps), so history says which job failed.
            try c.execute("""
                UPDATE runs SET status = ?, substatus = ?, ended_at = ?, error_class = ?, error_message = ?,
                    external_job_id = COALESCE(?, external_job_id,
                        (SELECT json_extract(intent, '$.jobId') FROM steps
                         WHERE run_id = ? AND name IN ('start', 'poll') AND json_extract(intent, '$.jobId') IS NOT NULL
                         ORDER BY seq DESC LIMIT 1)),
                    result = ?
                WHERE run_id = ?
                """, [.text(runStatus), SQLiteValue(runSubstatus), StoreText.text(now), SQLiteValue(errorClass),
                      SQLiteValue(errorMessage), SQLiteValue(externalJobID), .text(runID), SQLiteValue(resultJSON), .text(runID)])
            try c.appendEvent(NewAuditEvent(
                at: now.date, kind: "attemptFinished", pipeline: record.key.pipeline, activity: record.key.activity,
                windowStart: record.window.start.date, runID: runID,
                detail: StoreText.json(["status": runStatus, "substatus": runSubstatus, "error": errorMessage,
                                        "window": machine.status.rawValue, "windowSubstate": machine.substate?.rawValue,
                                        "attempts": machine.attempts])))
            return FinishedAttempt(windowID: windowID, status: machine.status, substate: machine.substate, action: action, applied: true)
        }
    }

    /// Gives a running window back when the worker stops before its attempt ends (graceful
    /// shutdown): the run is closed as Failed/interrupted and the attempt is not charged.
    public func release(runID: String, workerID: String, budget: RetryBudget, now: Instant) throws {
        try database.transaction { c in
            guard let run = try c.query("SELECT window_id FROM runs WHERE run_id = ? AND status = 'InProgress'", [.text(runID)]).first,
                  let windowID = run.int64("window_id"),
                  let record = try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = ?", [.integer(windowID)])
                    .first.flatMap(WindowRecord.init(row:)), record.leaseOwner == workerID else { return }
            var machine = record.machine(budget)
            _ = machine.released(at: now)
            try Self.writeMachine(c, machine, windowID: windowID, now: now)
            try c.execute("""
                UPDATE runs SET status = 'Failed', ended_at = ?, error_class = 'interrupted',
                    error_message = 'The worker stopped before the attempt finished; the window was given back without using its retry budget.'
                WHERE run_id = ?
                """, [StoreText.text(now), .text(runID)])
            try c.appendEvent(NewAuditEvent(at: now.date, kind: "leaseReleased", pipeline: record.key.pipeline,
                                            activity: record.key.activity, windowStart: record.window.start.date, runID: runID,
                                            detail: StoreText.json(["worker": workerID])))
        }
    }

    /// Recovers windows whose lease expired before `now` (their worker died): the lost attempt
    /// stays counted (D5), its run is closed as Failed with error class `crash`, and the window
    /// is retried or Failed per its budget. Returns the windows recovered.
    @discardableResult
    public func recoverExpiredLeases(now: Instant, budget: (ActivityKey) -> RetryBudget) throws -> [WindowRecord] {
        let expired = try database.query("""
            SELECT \(WindowRecord.columns) FROM windows WHERE lease_owner IS NOT NULL AND lease_expires_at < ? ORDER BY id
            """, [StoreText.text(now)]).compactMap(WindowRecord.init(row:))
        var recovered: [WindowRecord] = []
        for stale in expired {
            let done = try database.transaction { c -> Bool in
                guard let record = try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = ?", [.integer(stale.id)])
                    .first.flatMap(WindowRecord.init(row:)), let owner = record.leaseOwner,
                      let expiry = record.leaseExpiresAt, expiry < now else { return false }
                var machine = record.machine(budget(record.key))
                let action = machine.leaseExpired(at: now)
                try Self.writeMachine(c, machine, windowID: record.id, now: now)
                let message = "The worker \(owner) stopped before the attempt finished (its lease expired at \(expiry.iso8601))."
                try c.execute("""
                    UPDATE runs SET status = 'Failed', ended_at = max(started_at, ?), error_class = 'crash', error_message = ?,
                        external_job_id = COALESCE(external_job_id,
                            (SELECT json_extract(s.intent, '$.jobId') FROM steps s
                             WHERE s.run_id = runs.run_id AND s.name IN ('start', 'poll') AND json_extract(s.intent, '$.jobId') IS NOT NULL
                             ORDER BY s.seq DESC LIMIT 1))
                    WHERE window_id = ? AND status = 'InProgress'
                    """, [StoreText.text(now), .text(message), .integer(record.id)])
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "leaseExpired", pipeline: record.key.pipeline, activity: record.key.activity,
                    windowStart: record.window.start.date,
                    detail: StoreText.json(["worker": owner, "attempts": machine.attempts, "window": machine.status.rawValue,
                                            "retry": action != .markFailed])))
                return true
            }
            if done { recovered.append(stale) }
        }
        return recovered
    }

    // MARK: Helpers

    static func writeMachine(_ c: SQLiteConnection, _ machine: WindowStateMachine, windowID: Int64, now: Instant) throws {
        try c.execute("""
            UPDATE windows SET state = ?, substate = ?, attempts = ?, long_retry_round = ?, next_attempt_at = ?,
                next_trigger = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
            WHERE id = ?
            """, [.text(machine.status.rawValue), SQLiteValue(machine.substate?.rawValue), .integer(Int64(machine.attempts)),
                  .integer(Int64(machine.longRetryRound)), StoreText.text(machine.nextAttemptAt),
                  .text(machine.nextTrigger.rawValue), StoreText.text(now), .integer(windowID)])
    }

    /// Asks for `endpoint`'s deployment lock for `runID`, whose model was trained on the window
    /// starting `modelWindowStart`. In one transaction: another InProgress run holding the
    /// endpoint → `.busy`; a model of a newer window already serving it → `.superseded` (D14);
    /// else this run holds the endpoint until the run ends (the transaction that ends it also
    /// records its deployment), so check, PATCH and record never interleave with another
    /// attempt's, in this process or another. A crashed holder's lock frees when lease recovery
    /// closes its run.
    public func claimEndpoint(_ endpoint: String, runID: String, modelWindowStart: Instant, now: Instant) throws -> EndpointClaim {
        try database.transaction { c in
            if let holder = try c.query("""
                SELECT l.run_id FROM endpoint_locks l JOIN runs r ON r.run_id = l.run_id
                WHERE l.endpoint = ? AND l.run_id <> ? AND r.status = 'InProgress'
                """, [.text(endpoint), .text(runID)]).first?.string("run_id") {
                return .busy(holderRunID: holder)
            }
            if let serving = try Self.servingWindowStart(c, endpoint: endpoint), serving > modelWindowStart {
                return .superseded(servingWindowStart: serving)
            }
            try c.execute("""
                INSERT INTO endpoint_locks (endpoint, run_id, acquired_at) VALUES (?, ?, ?)
                ON CONFLICT (endpoint) DO UPDATE SET run_id = excluded.run_id, acquired_at = excluded.acquired_at
                """, [.text(endpoint), .text(runID), StoreText.text(now)])
            return .acquired
        }
    }

    /// The start of the training window of the model serving `endpoint` now, per the
    /// deployments recorded; nil when nothing was deployed there yet (D14 compares it).
    static func servingWindowStart(_ c: SQLiteConnection, endpoint: String) throws -> Instant? {
        try c.query("SELECT model_window_start FROM deployments WHERE endpoint = ? ORDER BY id DESC LIMIT 1", [.text(endpoint)])
            .first.flatMap { StoreText.instant($0, "model_window_start") }
    }

    /// Why `deployment` would replace a model trained on a newer window (D14), or nil.
    static func supersededReason(_ c: SQLiteConnection, _ deployment: ProducedDeployment) throws -> String? {
        guard !deployment.forced, let serving = try servingWindowStart(c, endpoint: deployment.endpoint),
              serving > deployment.modelWindow.start
        else { return nil }
        return "A model trained on the newer window starting \(serving.iso8601) already serves endpoint \(deployment.endpoint)."
    }

    static func insertDeployment(_ c: SQLiteConnection, _ deployment: ProducedDeployment, runID: String, now: Instant) throws {
        let replaced = try c.query("SELECT id FROM deployments WHERE endpoint = ? ORDER BY id DESC LIMIT 1",
                                   [.text(deployment.endpoint)]).first?.int64("id")
        let output = try c.query("SELECT id FROM outputs WHERE location = ? ORDER BY id DESC LIMIT 1",
                                 [.text(deployment.modelLocation)]).first?.int64("id")
        try c.execute("""
            INSERT INTO deployments (endpoint, model_location, model_window_start, model_window_end, output_id, run_id,
                                     deployed_at, replaced_deployment_id, reason, forced)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (run_id, endpoint) DO NOTHING
            """, [.text(deployment.endpoint), .text(deployment.modelLocation), StoreText.text(deployment.modelWindow.start),
                  StoreText.text(deployment.modelWindow.end), SQLiteValue(output), .text(runID), StoreText.text(now),
                  SQLiteValue(replaced), .text(deployment.reason), SQLiteValue(deployment.forced)])
    }
}

extension Instant {
    /// The instant as a Foundation date (audit events take dates).
    var date: Date { Date(timeIntervalSince1970: TimeInterval(secondsSinceEpoch)) }
}

/// What `WindowRepository.claimEndpoint` decided.
public enum EndpointClaim: Equatable, Sendable {
    /// This run holds the endpoint until it ends, and no newer window's model serves it.
    case acquired
    /// A model trained on the newer window starting here already serves the endpoint (D14).
    case superseded(servingWindowStart: Instant)
    /// Another InProgress attempt holds the endpoint; ask again shortly.
    case busy(holderRunID: String)
}
