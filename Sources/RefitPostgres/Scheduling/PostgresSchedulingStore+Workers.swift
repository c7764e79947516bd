import Foundation
import RefitCore
import RefitStore

/// The worker registry (`workers`, schema version 9). Times are the server's clock under
/// `LeaseClock.database` (as leases are), the caller's `now` under `.caller`. A heartbeat is one
/// autocommitted upsert; none of these writes sends `NOTIFY refit_changes`, so a heartbeat never
/// wakes another worker.
extension PostgresSchedulingStore {
    public func registerWorker(_ worker: WorkerRegistration, now: Instant) async throws {
        let stamp = stampValue(now)
        try await database.write { c in
            try c.execute("""
                DELETE FROM workers WHERE last_heartbeat_at < COALESCE($1::timestamptz, clock_timestamp()) - $2 * interval '1 second'
                    OR stopped_at < COALESCE($1::timestamptz, clock_timestamp()) - $2 * interval '1 second'
                """, [stamp, .integer(WorkerRegistration.retention.seconds)])
            try Self.upsertWorker(c, worker, stamp: stamp)
            c.wrote = false   // liveness, not a change other workers need to look at
        }
    }

    public func heartbeatWorker(_ worker: WorkerRegistration, now: Instant) async throws {
        let stamp = stampValue(now)
        try await database.read { c in try Self.upsertWorker(c, worker, stamp: stamp) }
    }

    public func markWorkerStopped(workerID: String, now: Instant) async throws {
        let stamp = stampValue(now)
        _ = try await database.read { c in
            try c.execute("""
                UPDATE workers SET stopped_at = COALESCE($1::timestamptz, date_trunc('second', clock_timestamp())),
                    last_heartbeat_at = GREATEST(last_heartbeat_at, COALESCE($1::timestamptz, date_trunc('second', clock_timestamp())))
                WHERE worker_id = $2
                """, [stamp, .text(workerID)])
        }
    }

    public func registeredWorkers() async throws -> [WorkerRecord] {
        try await database.read { c in try Self.workers(c) }
    }

    /// The caller's `now` under `.caller`; NULL under `.database`, which the SQL turns into the
    /// server's clock (so a heartbeat costs no extra round trip to read it).
    private func stampValue(_ now: Instant) -> PostgresValue {
        leaseClock == .caller ? .timestamp(now) : .null
    }

    private static func upsertWorker(_ c: PostgresConnection, _ worker: WorkerRegistration, stamp: PostgresValue) throws {
        try c.execute("""
            INSERT INTO workers (worker_id, host, pid, command, heartbeat_seconds, started_at, last_heartbeat_at, stopped_at)
            VALUES ($1, $2, $3, $4, $5, COALESCE($6::timestamptz, date_trunc('second', clock_timestamp())),
                    COALESCE($6::timestamptz, date_trunc('second', clock_timestamp())), NULL)
            ON CONFLICT (worker_id) DO UPDATE SET
                heartbeat_seconds = excluded.heartbeat_seconds, stopped_at = NULL,
                last_heartbeat_at = GREATEST(workers.last_heartbeat_at, excluded.last_heartbeat_at)
            """, [.text(worker.workerID), .text(worker.host), .integer(worker.pid), .text(worker.command.rawValue),
                  .integer(worker.heartbeatInterval.seconds), stamp])
    }

    /// Every registered worker, oldest start first.
    static func workers(_ c: PostgresConnection) throws -> [WorkerRecord] {
        try c.query("""
            SELECT worker_id, host, pid, command, heartbeat_seconds, started_at, last_heartbeat_at, stopped_at FROM workers
            ORDER BY started_at, worker_id COLLATE "C"
            """).compactMap { row -> WorkerRecord? in
            guard let id = row.string("worker_id"), let host = row.string("host"), let pid = row.int64("pid"),
                  let command = row.string("command").flatMap(WorkerCommand.init(rawValue:)), let interval = row.int64("heartbeat_seconds"),
                  let started = row.instant("started_at"), let beat = row.instant("last_heartbeat_at") else { return nil }
            return WorkerRecord(workerID: id, host: host, pid: pid, command: command, heartbeatInterval: TimeSpan(seconds: interval),
                                startedAt: started, lastHeartbeatAt: beat, stoppedAt: row.instant("stopped_at"))
        }
    }
}
