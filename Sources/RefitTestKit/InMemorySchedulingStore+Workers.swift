import RefitCore

/// The worker registry in memory, with the SQL stores' rules: registration keeps the first
/// start time, clears a stop and prunes rows older than the retention; a heartbeat upserts and
/// never moves the last heartbeat back.
extension InMemorySchedulingStore {
    public func registerWorker(_ worker: WorkerRegistration, now: Instant) async throws {
        locked { s in
            let horizon = now - WorkerRegistration.retention
            s.workers = s.workers.filter { $0.value.lastHeartbeatAt >= horizon && ($0.value.stoppedAt.map { $0 >= horizon } ?? true) }
            let startedAt = s.workers[worker.workerID]?.startedAt ?? now
            s.workers[worker.workerID] = WorkerRecord(workerID: worker.workerID, host: worker.host, pid: worker.pid, command: worker.command,
                                                      heartbeatInterval: worker.heartbeatInterval, startedAt: startedAt,
                                                      lastHeartbeatAt: max(now, s.workers[worker.workerID]?.lastHeartbeatAt ?? now),
                                                      stoppedAt: nil)
        }
    }

    public func heartbeatWorker(_ worker: WorkerRegistration, now: Instant) async throws {
        locked { s in
            if var record = s.workers[worker.workerID] {
                record.lastHeartbeatAt = max(record.lastHeartbeatAt, now)
                record.stoppedAt = nil
                record.heartbeatInterval = worker.heartbeatInterval
                s.workers[worker.workerID] = record
            } else {
                s.workers[worker.workerID] = WorkerRecord(workerID: worker.workerID, host: worker.host, pid: worker.pid,
                                                          command: worker.command, heartbeatInterval: worker.heartbeatInterval,
                                                          startedAt: now, lastHeartbeatAt: now, stoppedAt: nil)
            }
        }
    }

    public func markWorkerStopped(workerID: String, now: Instant) async throws {
        locked { s in
            guard var record = s.workers[workerID] else { return }
            record.lastHeartbeatAt = max(record.lastHeartbeatAt, now)
            record.stoppedAt = now
            s.workers[workerID] = record
        }
    }

    public func registeredWorkers() async throws -> [WorkerRecord] {
        locked { s in
            s.workers.values.sorted { ($0.startedAt, $0.workerID) < ($1.startedAt, $1.workerID) }
        }
    }
}
