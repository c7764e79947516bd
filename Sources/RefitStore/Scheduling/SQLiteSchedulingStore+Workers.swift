import Foundation
import RefitCore

/// The worker registry (`workers`, schema version 9). A heartbeat is one autocommitted upsert
/// and is not audited: it is liveness, not history.
extension SQLiteSchedulingStore {
    public func registerWorker(_ worker: WorkerRegistration, now: Instant) async throws {
        try await database.write { c in
            let horizon = StoreText.text(now - WorkerRegistration.retention)
            try c.execute("DELETE FROM workers WHERE last_heartbeat_at < ? OR stopped_at < ?", [horizon, horizon])
            try Self.upsertWorker(c, worker, now: now)
        }
    }

    public func heartbeatWorker(_ worker: WorkerRegistration, now: Instant) async throws {
        try await database.run { c in try Self.upsertWorker(c, worker, now: now) }
    }

    public func markWorkerStopped(workerID: String, now: Instant) async throws {
        _ = try await database.run { c in
            try c.execute("""
                UPDATE workers SET stopped_at = ?, last_heartbeat_at = max(last_heartbeat_at, ?) WHERE worker_id = ?
                """, [StoreText.text(now), StoreText.text(now), .text(workerID)])
        }
    }

    public func registeredWorkers() async throws -> [WorkerRecord] {
        try await database.read { c in try Self.workers(c) }
    }

    /// Inserts the worker's row, or stamps its heartbeat (never backwards) and clears a stop.
    static func upsertWorker(_ c: SQLiteConnection, _ worker: WorkerRegistration, now: Instant) throws {
        try c.execute("""
            INSERT INTO workers (worker_id, host, pid, command, heartbeat_seconds, started_at, last_heartbeat_at, stopped_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
            ON CONFLICT (worker_id) DO UPDATE SET
                heartbeat_seconds = excluded.heartbeat_seconds, stopped_at = NULL,
                last_heartbeat_at = max(workers.last_heartbeat_at, excluded.last_heartbeat_at)
            """, [.text(worker.workerID), .text(worker.host), .integer(worker.pid), .text(worker.command.rawValue),
                  .integer(worker.heartbeatInterval.seconds), StoreText.text(now), StoreText.text(now)])
    }

    /// Every registered worker, oldest start first.
    static func workers(_ c: SQLiteConnection) throws -> [WorkerRecord] {
        try c.query("""
            SELECT worker_id, host, pid, command, heartbeat_seconds, started_at, last_heartbeat_at, stopped_at FROM workers
            ORDER BY started_at, worker_id
            """).compactMap { row -> WorkerRecord? in
            guard let id = row.string("worker_id"), let host = row.string("host"), let pid = row.int("pid"),
                  let command = row.string("command").flatMap(WorkerCommand.init(rawValue:)), let interval = row.int("heartbeat_seconds"),
                  let started = StoreText.instant(row, "started_at"), let beat = StoreText.instant(row, "last_heartbeat_at") else { return nil }
            return WorkerRecord(workerID: id, host: host, pid: Int64(pid), command: command, heartbeatInterval: TimeSpan(seconds: Int64(interval)),
                                startedAt: started, lastHeartbeatAt: beat, stoppedAt: StoreText.instant(row, "stopped_at"))
        }
    }
}
