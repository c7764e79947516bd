import Foundation
import Logging
import RefitCore

/// The worker registry: this process's row in the store (what `refit status` lists for every
/// host), its heartbeats, and its graceful end.
extension Worker {
    /// Registers this process in the store's worker registry (what `refit status` lists for
    /// every host): `run` does it itself, `refit tick` around its passes. Also prunes the rows of
    /// workers gone for a week. A database that refuses is logged: the heartbeats try again.
    public func register(as command: WorkerCommand) async {
        let identity = WorkerIdentity(parsing: configuration.workerID)
        let registration = WorkerRegistration(
            workerID: configuration.workerID, host: identity?.host ?? ProcessInfo.processInfo.hostName,
            pid: Int64(identity?.pid ?? ProcessInfo.processInfo.processIdentifier), command: command,
            heartbeatInterval: configuration.leaseRenewalInterval)
        self.registration = registration
        let now = clock.now()
        lastHeartbeatAt = now
        do {
            try await store.registerWorker(registration, now: now)
        } catch {
            lastHeartbeatAt = nil
            logger.warning("could not register the worker; heartbeats will try again", metadata: ["error": "\(error)"])
        }
    }

    /// Writes a heartbeat when the last one is a heartbeat interval old (`--heartbeat-seconds`,
    /// the lease renewal interval): called by every pass, by the sleeping loop at each change
    /// poll and by running attempts as they renew their leases, so a busy or idle worker beats
    /// about once per interval and never more often.
    func heartbeatIfDue() async {
        guard let registration else { return }
        let now = clock.now()
        if let last = lastHeartbeatAt, now - last < configuration.leaseRenewalInterval, now >= last { return }
        lastHeartbeatAt = now
        do {
            try await store.heartbeatWorker(registration, now: now)
        } catch {
            // Tried again an interval later (a database that is down is not hammered).
            logger.debug("heartbeat not written", metadata: ["error": "\(error)"])
        }
    }

    /// Records that this process stopped gracefully; no heartbeats follow.
    public func markStopped() async {
        guard let registration else { return }
        self.registration = nil
        do {
            try await store.markWorkerStopped(workerID: registration.workerID, now: clock.now())
        } catch {
            logger.warning("could not record that the worker stopped; status will call it silent", metadata: ["error": "\(error)"])
        }
    }
}
