import Foundation
import RefitCore

/// `SchedulingStore` on SQLite. Every call runs on the database's serial executor (the caller
/// suspends, the cooperative pool is never blocked by another process's write lock), and every
/// write is one short `BEGIN IMMEDIATE` transaction that also appends the audit event describing
/// it. Decisions come from `WindowStateMachine` and `ExternalSliceCheck`; the SQL only applies
/// them if the row is unchanged since it was read, and checks the caps in the same transaction,
/// so several processes can share one database file.
///
/// The methods are grouped by aggregate: windows and readiness (this file), attempts and leases,
/// external slices, operator controls, deployments and endpoint locks.
public final class SQLiteSchedulingStore: SchedulingStore {
    let database: SQLiteDatabase
    /// What attempts' journals left for `finish` and `release` to write first.
    let handedOverSteps: HandedOverSteps

    public init(_ store: Store) {
        database = store.database
        handedOverSteps = store.handedOverSteps
    }

    // MARK: Materialization

    public func watermark(_ key: ActivityKey) async throws -> Instant? {
        try await database.read { c in
            try c.query("SELECT materialized_until FROM watermarks WHERE pipeline = ? AND activity = ?",
                        [.text(key.pipeline), .text(key.activity)]).first.flatMap { StoreText.instant($0, "materialized_until") }
        }
    }

    public func materialize(_ key: ActivityKey, windows: [NewWindow], until: Instant, outputs: [String],
                            definitionSHA256: String, budget: RetryBudget, now: Instant) async throws -> Int {
        try await database.write { c in
            try Self.recordOutputs(c, key, outputs)
            var inserted = 0
            let insert = try c.prepare("""
                INSERT INTO windows (pipeline, activity, window_start, window_end, state, substate, attempts, long_retry_round,
                                     next_attempt_at, next_trigger, definition_sha256, updated_at, missing_inputs)
                VALUES (?, ?, ?, ?, 'Waiting', ?, 0, 0, ?, ?, ?, ?, NULL)
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

    /// Keeps `activity_outputs` equal to the activity's outputs as defined now.
    static func recordOutputs(_ c: SQLiteConnection, _ key: ActivityKey, _ outputs: [String]) throws {
        let known = Set(try c.query("SELECT dataset FROM activity_outputs WHERE pipeline = ? AND activity = ?",
                                    [.text(key.pipeline), .text(key.activity)]).compactMap { $0.string("dataset") })
        guard known != Set(outputs) else { return }
        try c.execute("DELETE FROM activity_outputs WHERE pipeline = ? AND activity = ?", [.text(key.pipeline), .text(key.activity)])
        for dataset in Set(outputs).sorted() {
            try c.execute("INSERT INTO activity_outputs (pipeline, activity, dataset) VALUES (?, ?, ?)",
                          [.text(key.pipeline), .text(key.activity), .text(dataset)])
        }
    }

    // MARK: Readiness

    public func unresolvedWindows(limit: Int) async throws -> [WindowRecord] {
        try await database.read { c in
            try c.query("""
                SELECT \(WindowRecord.columns) FROM windows INDEXED BY windows_unresolved
                WHERE state = 'Waiting' AND missing_inputs IS NULL ORDER BY id LIMIT ?
                """, [.integer(Int64(max(0, limit)))]).compactMap(WindowRecord.init(row:))
        }
    }

    /// Whether a window of an activity that outputs dataset `?1` is Ready for the slice starting
    /// `?2`. Written as EXISTS so that SQLite reads the few producing activities first and looks
    /// each window up by (pipeline, activity, window_start): as a join without statistics it
    /// scanned every Ready window for each produced input of each new window, a cost that grew
    /// with the history (`QueryPlanTests`).
    static let producedReadySQL = """
        SELECT 1 FROM activity_outputs o WHERE o.dataset = ? AND EXISTS (
            SELECT 1 FROM windows w WHERE w.pipeline = o.pipeline AND w.activity = o.activity
            AND w.window_start = ? AND w.state = 'Ready') LIMIT 1
        """

    public func recordInputs(_ inputs: [WindowInputs], now: Instant) async throws {
        guard !inputs.isEmpty else { return }
        try await database.write { c in
            let window = try c.prepare("SELECT \(WindowRecord.columns) FROM windows WHERE id = ? AND missing_inputs IS NULL")
            let insertSlice = try c.prepare("""
                INSERT INTO slices (dataset, slice_start, slice_end, state, substate, check_count, next_check_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (dataset, slice_start) DO NOTHING
                """)
            let sliceState = try c.prepare("SELECT state FROM slices WHERE dataset = ? AND slice_start = ?")
            let producedReady = try c.prepare(Self.producedReadySQL)
            let insertInput = try c.prepare("""
                INSERT INTO window_inputs (window_id, dataset, slice_start, slice_end, ready) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (window_id, dataset, slice_start) DO NOTHING
                """)
            let update = try c.prepare("UPDATE windows SET missing_inputs = ?, substate = ?, updated_at = ? WHERE id = ? AND missing_inputs IS NULL")
            for entry in inputs {
                window.reset()
                try window.bind([.integer(entry.windowID)])
                guard let record = try window.rows().first.flatMap(WindowRecord.init(row:)) else { continue }
                var missing = 0
                if let slices = entry.inputs {
                    for input in slices {
                        let ready: Bool
                        if let check = input.external {
                            insertSlice.reset()
                            try insertSlice.bind([.text(input.dataset), StoreText.text(input.slice.start), StoreText.text(input.slice.end),
                                                  .text(check.status.rawValue), SQLiteValue(check.substate?.rawValue),
                                                  StoreText.text(check.nextCheckAt), StoreText.text(now)])
                            try insertSlice.run()
                            sliceState.reset()
                            try sliceState.bind([.text(input.dataset), StoreText.text(input.slice.start)])
                            ready = try sliceState.rows().first?.string("state") == WindowStatus.ready.rawValue
                        } else {
                            producedReady.reset()
                            try producedReady.bind([.text(input.dataset), StoreText.text(input.slice.start)])
                            ready = try !producedReady.rows().isEmpty
                        }
                        insertInput.reset()
                        try insertInput.bind([.integer(entry.windowID), .text(input.dataset), StoreText.text(input.slice.start),
                                              StoreText.text(input.slice.end), .integer(ready ? 1 : 0)])
                        try insertInput.run()
                        if c.changes == 1 && !ready { missing += 1 }
                    }
                } else {
                    // Unresolvable with these definitions: never runnable until they change.
                    missing = 1
                }
                var machine = record.machine(RetryBudget(ActivityPolicy()))
                _ = missing == 0 ? machine.dependenciesReady() : machine.dependenciesMissing()
                update.reset()
                try update.bind([.integer(Int64(missing)), SQLiteValue(machine.substate?.rawValue), StoreText.text(now),
                                 .integer(entry.windowID)])
                try update.run()
            }
        }
    }

    public func resetInputs(pipeline: String, now: Instant) async throws -> Int {
        try await database.write { c in
            try c.execute("""
                DELETE FROM window_inputs WHERE window_id IN
                    (SELECT id FROM windows WHERE pipeline = ? AND state = 'Waiting' AND missing_inputs IS NOT NULL)
                """, [.text(pipeline)])
            return try c.execute("""
                UPDATE windows SET missing_inputs = NULL, updated_at = ?
                WHERE pipeline = ? AND state = 'Waiting' AND missing_inputs IS NOT NULL
                """, [StoreText.text(now), .text(pipeline)])
        }
    }

    // MARK: Candidates

    /// The conditions of a claimable window of one activity (bound: pipeline, activity, now,
    /// active start, active end twice).
    static let runnable = """
        pipeline = ? AND activity = ? AND state = 'Waiting' AND missing_inputs = 0 AND next_attempt_at <= ?
          AND lease_owner IS NULL AND (substate IS NULL OR substate <> 'ActivityResume')
          AND window_start >= ? AND (? IS NULL OR window_start < ?)
        """

    static func runnableBindings(_ query: CandidateQuery, now: Instant) -> [SQLiteValue] {
        [.text(query.key.pipeline), .text(query.key.activity), StoreText.text(now), StoreText.text(query.activeStart),
         StoreText.text(query.activeEnd), StoreText.text(query.activeEnd)]
    }

    public func candidates(_ query: CandidateQuery, now: Instant) async throws -> [WindowRecord] {
        guard query.limit > 0 else { return [] }
        return try await database.read { c in
            let bindings = Self.runnableBindings(query, now: now)
            let direction = query.order == .newestFirst ? "DESC" : "ASC"
            // Operator reruns (priority > 0) first; they are few, so sorting them is cheap. The
            // rest come straight off the runnable index in the activity's order.
            var found = try c.query("""
                SELECT \(WindowRecord.columns) FROM windows INDEXED BY windows_runnable
                WHERE \(Self.runnable) AND priority > 0 ORDER BY priority DESC, window_start \(direction) LIMIT ?
                """, bindings + [.integer(Int64(query.limit))]).compactMap(WindowRecord.init(row:))
            if found.count < query.limit {
                found += try c.query("""
                    SELECT \(WindowRecord.columns) FROM windows INDEXED BY windows_runnable
                    WHERE \(Self.runnable) AND priority = 0 ORDER BY window_start \(direction) LIMIT ?
                    """, bindings + [.integer(Int64(query.limit - found.count))]).compactMap(WindowRecord.init(row:))
            }
            return found
        }
    }

    public func labelConcurrencyLimited(_ query: CandidateQuery, limit: Int, now: Instant) async throws -> Int {
        guard limit > 0 else { return 0 }
        return try await database.write { c in
            try c.execute("""
                UPDATE windows SET substate = 'ConcurrencyLimit', updated_at = ?
                WHERE id IN (SELECT id FROM windows INDEXED BY windows_runnable WHERE \(Self.runnable) AND substate IS NULL LIMIT ?)
                """, [StoreText.text(now)] + Self.runnableBindings(query, now: now) + [.integer(Int64(limit))])
        }
    }

    public func runningCounts() async throws -> [ActivityKey: Int] {
        try await database.read { c in
            var counts: [ActivityKey: Int] = [:]
            for row in try c.query(
                "SELECT pipeline, activity, count(*) AS n FROM windows WHERE state = 'InProgress' GROUP BY pipeline, activity") {
                guard let p = row.string("pipeline"), let a = row.string("activity") else { continue }
                counts[ActivityKey(pipeline: p, activity: a)] = row.int("n") ?? 0
            }
            return counts
        }
    }

    public func window(id: Int64) async throws -> WindowRecord? {
        try await database.read { c in
            try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = ?", [.integer(id)]).first.flatMap(WindowRecord.init(row:))
        }
    }

    public func window(_ key: ActivityKey, start: Instant) async throws -> WindowRecord? {
        try await database.read { c in try Self.window(c, key, start: start) }
    }

    static func window(_ c: SQLiteConnection, _ key: ActivityKey, start: Instant) throws -> WindowRecord? {
        try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE pipeline = ? AND activity = ? AND window_start = ?",
                    [.text(key.pipeline), .text(key.activity), StoreText.text(start)]).first.flatMap(WindowRecord.init(row:))
    }

    static func window(_ c: SQLiteConnection, id: Int64) throws -> WindowRecord? {
        try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = ?", [.integer(id)]).first.flatMap(WindowRecord.init(row:))
    }

    /// SQLite's `data_version`: it moves when another connection commits.
    public func changeToken() async throws -> Int64 {
        try await database.read { c in Int64(try c.query("PRAGMA data_version").first?[0]?.intValue ?? 0) }
    }

    public func nextWakeTime(after now: Instant, workerID: String) async throws -> Instant? {
        try await database.read { c in
            let attempt = try c.query("""
                SELECT min(next_attempt_at) AS t FROM windows INDEXED BY windows_runnable_next
                WHERE state = 'Waiting' AND missing_inputs = 0 AND next_attempt_at > ?
                """, [StoreText.text(now)]).first.flatMap { StoreText.instant($0, "t") }
            let lease = try c.query("""
                SELECT min(lease_expires_at) AS t FROM windows WHERE lease_owner IS NOT NULL AND lease_owner <> ?
                """, [.text(workerID)]).first.flatMap { StoreText.instant($0, "t") }
                .map { max($0, now) + TimeSpan(seconds: 1) }   // expired and not recovered yet: a second from now
            return [attempt, lease].compactMap { $0 }.min()
        }
    }
}

/// Keeps `windows.missing_inputs` true as dataset slices move into and out of Ready.
enum Readiness {
    /// The slice of `dataset` starting `start` became Ready (`ready`) or stopped being Ready: the
    /// count of every window reading it moves by one, and Waiting ones are relabelled.
    static func sliceChanged(_ c: SQLiteConnection, dataset: String, start: Instant, ready: Bool, now: Instant) throws {
        let delta: Int64 = ready ? -1 : 1
        let was: Int64 = ready ? 0 : 1
        // The readers first, then keyed updates. One `UPDATE windows … WHERE id IN (SELECT …)`,
        // and one update of `ready` over the index that the update's own WHERE reads, each made
        // SQLite collect the rows in a temporary table first: three per call, a few per slice.
        let readers = try c.query("""
            SELECT window_id FROM window_inputs INDEXED BY window_inputs_by_slice
            WHERE dataset = ? AND slice_start = ? AND ready = ?
            """, [.text(dataset), StoreText.text(start), .integer(was)]) { $0.int64(at: 0) }
        for window in readers {
            try c.execute("""
                UPDATE windows SET missing_inputs = max(missing_inputs + ?1, 0),
                    substate = CASE
                        WHEN state <> 'Waiting' THEN substate
                        WHEN max(missing_inputs + ?1, 0) = 0 AND substate = 'DatasetDependencies' THEN NULL
                        WHEN max(missing_inputs + ?1, 0) > 0 AND (substate IS NULL OR substate = 'ConcurrencyLimit') THEN 'DatasetDependencies'
                        ELSE substate END,
                    updated_at = ?2
                WHERE id = ?3 AND missing_inputs IS NOT NULL
                """, [.integer(delta), StoreText.text(now), .integer(window)])
            try c.execute("UPDATE window_inputs SET ready = ? WHERE window_id = ? AND dataset = ? AND slice_start = ?",
                          [.integer(ready ? 1 : 0), .integer(window), .text(dataset), StoreText.text(start)])
        }
    }

    /// A window moved from `old` to `new`: if it entered or left Ready, the slices its activity
    /// produces at its start follow.
    static func windowChanged(_ c: SQLiteConnection, _ record: WindowRecord, from old: WindowStatus, to new: WindowStatus,
                              now: Instant) throws {
        guard (old == .ready) != (new == .ready) else { return }
        let outputs = try c.query("SELECT dataset FROM activity_outputs WHERE pipeline = ? AND activity = ?",
                                  [.text(record.key.pipeline), .text(record.key.activity)]).compactMap { $0.string("dataset") }
        for dataset in outputs {
            try sliceChanged(c, dataset: dataset, start: record.window.start, ready: new == .ready, now: now)
        }
    }
}

extension Instant {
    /// The instant as a Foundation date (audit events take dates).
    var date: Date { Date(timeIntervalSince1970: TimeInterval(secondsSinceEpoch)) }
}
