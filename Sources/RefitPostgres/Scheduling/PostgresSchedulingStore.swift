import Foundation
import RefitCore
import RefitStore

/// `SchedulingStore` on PostgreSQL, for several worker hosts sharing one database, with the
/// semantics of `SQLiteSchedulingStore` (the conformance suite runs against both). Every call
/// runs on the database's serial executor (decision 18); every write is one short transaction
/// that also appends its audit event and ends with `NOTIFY refit_changes`.
///
/// What keeps hosts apart: a claim locks its window row (`FOR UPDATE SKIP LOCKED`: a row another
/// host is claiming is skipped, not waited for) and takes the activity's advisory lock before
/// counting running attempts, so caps hold across hosts; the endpoint check runs under the
/// endpoint's advisory lock; leases are stamped and expired by the server's clock (`LeaseClock`);
/// conditional UPDATEs (`… AND attempts = $n`) make every other decision apply once.
public final class PostgresSchedulingStore: SchedulingStore {
    public let database: PostgresDatabase
    public let leaseClock: LeaseClock

    public init(_ database: PostgresDatabase, leaseClock: LeaseClock = .database) {
        self.database = database
        self.leaseClock = leaseClock
    }

    /// Connects to `url` (with `password` apart from it, when given), applies pending migrations (refusing a database from a newer Refit) and
    /// returns the store.
    public static func open(url: String, password: String? = nil, leaseClock: LeaseClock = .database) throws -> PostgresSchedulingStore {
        let database = try PostgresDatabase(url: url, password: password)
        try PostgresMigrator().migrate(database)
        return PostgresSchedulingStore(database, leaseClock: leaseClock)
    }

    /// Connects to `url` for the read commands: nothing is migrated or written, and a database
    /// at another schema version than this Refit's is refused with one sentence.
    public static func openForReading(url: String, password: String? = nil) throws -> PostgresSchedulingStore {
        let database = try PostgresDatabase(url: url, password: password)
        try PostgresMigrator().requireCurrent(database)
        return PostgresSchedulingStore(database)
    }

    /// The instant leases are compared with now: the server's clock, or the caller's `now`.
    func leaseNow(_ c: PostgresConnection, _ now: Instant) throws -> Instant {
        switch leaseClock {
        case .caller:
            return now
        case .database:
            return try c.query("SELECT date_trunc('second', clock_timestamp()) AS t").first?.instant("t") ?? now
        }
    }

    // MARK: Materialization

    public func watermark(_ key: ActivityKey) async throws -> Instant? {
        try await database.read { c in
            try c.query("SELECT materialized_until FROM watermarks WHERE pipeline = $1 AND activity = $2",
                        [.text(key.pipeline), .text(key.activity)]).first?.instant("materialized_until")
        }
    }

    // Inserts of rows with generated ids check for the row first: ON CONFLICT alone would
    // consume a sequence value per existing row, and ids would drift from the SQLite store's.
    public func materialize(_ key: ActivityKey, windows: [NewWindow], until: Instant, outputs: [String],
                            definitionSHA256: String, budget: RetryBudget, now: Instant) async throws -> Int {
        try await database.write { c in
            try Self.recordOutputs(c, key, outputs)
            var inserted = 0
            for new in windows {
                var machine = WindowStateMachine(dueAt: new.dueAt, budget: budget, trigger: new.trigger)
                _ = machine.timeArrived(now)
                inserted += try c.execute("""
                    INSERT INTO windows (pipeline, activity, window_start, window_end, state, substate, attempts, long_retry_round,
                                         next_attempt_at, next_trigger, definition_sha256, updated_at, missing_inputs)
                    SELECT $1, $2, $3, $4, 'Waiting', $5, 0, 0, $6, $7, $8, $9, NULL
                    WHERE NOT EXISTS (SELECT 1 FROM windows WHERE pipeline = $1 AND activity = $2 AND window_start = $3)
                    ON CONFLICT (pipeline, activity, window_start) DO NOTHING
                    """, [.text(key.pipeline), .text(key.activity), .timestamp(new.window.start), .timestamp(new.window.end),
                          PostgresValue(machine.substate?.rawValue), PostgresValue(machine.nextAttemptAt),
                          .text(new.trigger.rawValue), .text(definitionSHA256), .timestamp(now)])
            }
            try c.execute("""
                INSERT INTO watermarks (pipeline, activity, materialized_until, updated_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (pipeline, activity) DO UPDATE SET materialized_until = excluded.materialized_until,
                    updated_at = excluded.updated_at
                WHERE excluded.materialized_until > watermarks.materialized_until
                """, [.text(key.pipeline), .text(key.activity), .timestamp(until), .timestamp(now)])
            if inserted > 0, let first = windows.first, let last = windows.last {
                try c.appendEvent(NewAuditEvent(
                    at: now.date, kind: "windowsMaterialized", pipeline: key.pipeline, activity: key.activity,
                    windowStart: first.window.start.date,
                    detail: PostgresText.json(["count": inserted, "first": first.window.start.iso8601,
                                               "last": last.window.start.iso8601])))
            }
            return inserted
        }
    }

    /// Keeps `activity_outputs` equal to the activity's outputs as defined now.
    static func recordOutputs(_ c: PostgresConnection, _ key: ActivityKey, _ outputs: [String]) throws {
        let known = Set(try c.query("SELECT dataset FROM activity_outputs WHERE pipeline = $1 AND activity = $2",
                                    [.text(key.pipeline), .text(key.activity)]).compactMap { $0.string("dataset") })
        guard known != Set(outputs) else { return }
        try c.execute("DELETE FROM activity_outputs WHERE pipeline = $1 AND activity = $2", [.text(key.pipeline), .text(key.activity)])
        for dataset in Set(outputs).sorted() {
            try c.execute("INSERT INTO activity_outputs (pipeline, activity, dataset) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                          [.text(key.pipeline), .text(key.activity), .text(dataset)])
        }
    }

    // MARK: Readiness

    public func unresolvedWindows(limit: Int) async throws -> [WindowRecord] {
        try await database.read { c in
            try c.query("""
                SELECT \(WindowRecord.columns) FROM windows
                WHERE state = 'Waiting' AND missing_inputs IS NULL ORDER BY id LIMIT $1
                """, [.integer(Int64(max(0, limit)))]).compactMap(WindowRecord.init(row:))
        }
    }

    /// Whether a window of an activity that outputs dataset `$1` is Ready for the slice starting
    /// `$2`, in the SQLite store's form. PostgreSQL plans it as it planned the join: by the unique
    /// (pipeline, activity, window_start) index once the table has statistics (autovacuum
    /// analyzes it as it grows), by the Ready windows before.
    static let producedReadySQL = """
        SELECT 1 AS one FROM activity_outputs o WHERE o.dataset = $1 AND EXISTS (
            SELECT 1 FROM windows w WHERE w.pipeline = o.pipeline AND w.activity = o.activity
            AND w.window_start = $2 AND w.state = 'Ready') LIMIT 1
        """

    public func recordInputs(_ inputs: [WindowInputs], now: Instant) async throws {
        guard !inputs.isEmpty else { return }
        try await database.write { c in
            for entry in inputs {
                guard let record = try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = $1 AND missing_inputs IS NULL FOR UPDATE",
                                               [.integer(entry.windowID)]).first.flatMap(WindowRecord.init(row:)) else { continue }
                var missing = 0
                if let slices = entry.inputs {
                    for input in slices {
                        let ready: Bool
                        if let check = input.external {
                            try c.execute("""
                                INSERT INTO slices (dataset, slice_start, slice_end, state, substate, check_count, next_check_at, updated_at)
                                SELECT $1, $2, $3, $4, $5, 0, $6, $7
                                WHERE NOT EXISTS (SELECT 1 FROM slices WHERE dataset = $1 AND slice_start = $2)
                                ON CONFLICT (dataset, slice_start) DO NOTHING
                                """, [.text(input.dataset), .timestamp(input.slice.start), .timestamp(input.slice.end),
                                      .text(check.status.rawValue), PostgresValue(check.substate?.rawValue),
                                      PostgresValue(check.nextCheckAt), .timestamp(now)])
                            ready = try c.query("SELECT state FROM slices WHERE dataset = $1 AND slice_start = $2",
                                                [.text(input.dataset), .timestamp(input.slice.start)]).first?.string("state")
                                == WindowStatus.ready.rawValue
                        } else {
                            ready = try !c.query(Self.producedReadySQL, [.text(input.dataset), .timestamp(input.slice.start)]).isEmpty
                        }
                        let added = try c.execute("""
                            INSERT INTO window_inputs (window_id, dataset, slice_start, slice_end, ready) VALUES ($1, $2, $3, $4, $5)
                            ON CONFLICT (window_id, dataset, slice_start) DO NOTHING
                            """, [.integer(entry.windowID), .text(input.dataset), .timestamp(input.slice.start),
                                  .timestamp(input.slice.end), PostgresValue(ready)])
                        if added == 1 && !ready { missing += 1 }
                    }
                } else {
                    // Unresolvable with these definitions: never runnable until they change.
                    missing = 1
                }
                var machine = record.machine(RetryBudget(ActivityPolicy()))
                _ = missing == 0 ? machine.dependenciesReady() : machine.dependenciesMissing()
                try c.execute("UPDATE windows SET missing_inputs = $1, substate = $2, updated_at = $3 WHERE id = $4 AND missing_inputs IS NULL",
                              [.integer(Int64(missing)), PostgresValue(machine.substate?.rawValue), .timestamp(now), .integer(entry.windowID)])
            }
        }
    }

    public func resetInputs(pipeline: String, now: Instant) async throws -> Int {
        try await database.write { c in
            try c.execute("""
                DELETE FROM window_inputs WHERE window_id IN
                    (SELECT id FROM windows WHERE pipeline = $1 AND state = 'Waiting' AND missing_inputs IS NOT NULL)
                """, [.text(pipeline)])
            return try c.execute("""
                UPDATE windows SET missing_inputs = NULL, updated_at = $1
                WHERE pipeline = $2 AND state = 'Waiting' AND missing_inputs IS NOT NULL
                """, [.timestamp(now), .text(pipeline)])
        }
    }

    // MARK: Candidates

    /// The conditions of a claimable window of one activity (bound from `$1`: pipeline,
    /// activity, now, active start, active end).
    static let runnable = """
        pipeline = $1 AND activity = $2 AND state = 'Waiting' AND missing_inputs = 0 AND next_attempt_at <= $3
          AND lease_owner IS NULL AND (substate IS NULL OR substate <> 'ActivityResume')
          AND window_start >= $4 AND ($5::timestamptz IS NULL OR window_start < $5::timestamptz)
        """

    static func runnableBindings(_ query: CandidateQuery, now: Instant) -> [PostgresValue] {
        [.text(query.key.pipeline), .text(query.key.activity), .timestamp(now), .timestamp(query.activeStart),
         PostgresValue(query.activeEnd)]
    }

    public func candidates(_ query: CandidateQuery, now: Instant) async throws -> [WindowRecord] {
        guard query.limit > 0 else { return [] }
        return try await database.read { c in
            let bindings = Self.runnableBindings(query, now: now)
            let direction = query.order == .newestFirst ? "DESC" : "ASC"
            var found = try c.query("""
                SELECT \(WindowRecord.columns) FROM windows
                WHERE \(Self.runnable) AND priority > 0 ORDER BY priority DESC, window_start \(direction) LIMIT $6
                """, bindings + [.integer(Int64(query.limit))]).compactMap(WindowRecord.init(row:))
            if found.count < query.limit {
                found += try c.query("""
                    SELECT \(WindowRecord.columns) FROM windows
                    WHERE \(Self.runnable) AND priority = 0 ORDER BY window_start \(direction) LIMIT $6
                    """, bindings + [.integer(Int64(query.limit - found.count))]).compactMap(WindowRecord.init(row:))
            }
            return found
        }
    }

    public func labelConcurrencyLimited(_ query: CandidateQuery, limit: Int, now: Instant) async throws -> Int {
        guard limit > 0 else { return 0 }
        return try await database.write { c in
            try c.execute("""
                UPDATE windows SET substate = 'ConcurrencyLimit', updated_at = $7
                WHERE id IN (SELECT id FROM windows WHERE \(Self.runnable) AND substate IS NULL LIMIT $6 FOR UPDATE SKIP LOCKED)
                """, Self.runnableBindings(query, now: now) + [.integer(Int64(limit)), .timestamp(now)])
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
        try await database.read { c in try Self.window(c, id: id) }
    }

    public func window(_ key: ActivityKey, start: Instant) async throws -> WindowRecord? {
        try await database.read { c in try Self.window(c, key, start: start) }
    }

    static func window(_ c: PostgresConnection, _ key: ActivityKey, start: Instant, lock: Bool = false) throws -> WindowRecord? {
        try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE pipeline = $1 AND activity = $2 AND window_start = $3"
                    + (lock ? " FOR UPDATE" : ""),
                    [.text(key.pipeline), .text(key.activity), .timestamp(start)]).first.flatMap(WindowRecord.init(row:))
    }

    static func window(_ c: PostgresConnection, id: Int64, lock: Bool = false) throws -> WindowRecord? {
        try c.query("SELECT \(WindowRecord.columns) FROM windows WHERE id = $1" + (lock ? " FOR UPDATE" : ""), [.integer(id)])
            .first.flatMap(WindowRecord.init(row:))
    }

    /// Counts the `NOTIFY refit_changes` other connections sent (see `PostgresDatabase`).
    public func changeToken() async throws -> Int64 {
        try await database.changeToken()
    }

    public func nextWakeTime(after now: Instant, workerID: String) async throws -> Instant? {
        try await database.read { c in
            let attempt = try c.query("""
                SELECT min(next_attempt_at) AS t FROM windows
                WHERE state = 'Waiting' AND missing_inputs = 0 AND next_attempt_at > $1
                """, [.timestamp(now)]).first?.instant("t")
            // Leases run on the lease clock: their expiry is moved into the caller's time.
            let leaseNow = try self.leaseNow(c, now)
            let lease = try c.query("""
                SELECT min(lease_expires_at) AS t FROM windows WHERE lease_owner IS NOT NULL AND lease_owner <> $1
                """, [.text(workerID)]).first?.instant("t")
                .map { max(now + ($0 - leaseNow), now) + TimeSpan(seconds: 1) }   // expired and not recovered yet: a second from now
            return [attempt, lease].compactMap { $0 }.min()
        }
    }
}

/// Keeps `windows.missing_inputs` true as dataset slices move into and out of Ready.
enum PostgresReadiness {
    /// The slice of `dataset` starting `start` became Ready (`ready`) or stopped being Ready: the
    /// count of every window reading it moves by one, and Waiting ones are relabelled.
    static func sliceChanged(_ c: PostgresConnection, dataset: String, start: Instant, ready: Bool, now: Instant) throws {
        let delta: Int64 = ready ? -1 : 1
        try c.execute("""
            UPDATE windows SET missing_inputs = greatest(missing_inputs + $1, 0),
                substate = CASE
                    WHEN state <> 'Waiting' THEN substate
                    WHEN greatest(missing_inputs + $1, 0) = 0 AND substate = 'DatasetDependencies' THEN NULL
                    WHEN greatest(missing_inputs + $1, 0) > 0 AND (substate IS NULL OR substate = 'ConcurrencyLimit') THEN 'DatasetDependencies'
                    ELSE substate END,
                updated_at = $2
            WHERE missing_inputs IS NOT NULL
              AND id IN (SELECT window_id FROM window_inputs WHERE dataset = $3 AND slice_start = $4 AND ready = $5)
            """, [.integer(delta), .timestamp(now), .text(dataset), .timestamp(start), PostgresValue(!ready)])
        try c.execute("UPDATE window_inputs SET ready = $1 WHERE dataset = $2 AND slice_start = $3 AND ready = $4",
                      [PostgresValue(ready), .text(dataset), .timestamp(start), PostgresValue(!ready)])
    }

    /// A window moved from `old` to `new`: if it entered or left Ready, the slices its activity
    /// produces at its start follow.
    static func windowChanged(_ c: PostgresConnection, _ record: WindowRecord, from old: WindowStatus, to new: WindowStatus,
                              now: Instant) throws {
        guard (old == .ready) != (new == .ready) else { return }
        let outputs = try c.query("SELECT dataset FROM activity_outputs WHERE pipeline = $1 AND activity = $2",
                                  [.text(record.key.pipeline), .text(record.key.activity)]).compactMap { $0.string("dataset") }
        for dataset in outputs {
            try sliceChanged(c, dataset: dataset, start: record.window.start, ready: new == .ready, now: now)
        }
    }
}
