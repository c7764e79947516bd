import Foundation
import Logging
import RefitCore

/// The worker registry: this process's row in the store (what `refit status` lists for every
/// host), its heartbeats, and its graceful end.
extension Worker {
    /// Registers this process in the store's worker registry (what `refit status` lists for
    /// every host): `run` does it itself, `refit tick` around its passes. Also prunes the rows of
    /// workers gone for a week. A database that refuses is logged: the heartbeats try again.
    ///
    /// `.beforeFirstClaim` (what `refit tick` uses) writes the row only when the process is
    /// about to claim its first attempt, or once it has been working for a heartbeat interval
    /// without claiming (slow storage probes): a tick that finds nothing to do writes nothing,
    /// so a cron job's idle ticks leave the database as it was and pay for no commit.
    public func register(as command: WorkerCommand, timing: RegistrationTiming = .now) async {
        let identity = WorkerIdentity(parsing: configuration.workerID)
        let registration = WorkerRegistration(
            workerID: configuration.workerID, host: identity?.host ?? ProcessInfo.processInfo.hostName,
            pid: Int64(identity?.pid ?? ProcessInfo.processInfo.processIdentifier), command: command,
            heartbeatInterval: configuration.leaseRenewalInterval)
        switch timing {
        case .now:
            await write(registration)
        case .beforeFirstClaim:
            pendingRegistration = (registration, clock.now())
        }
    }

    /// When `register(as:timing:)` writes the worker's row.
    public enum RegistrationTiming: Sendable {
        /// At once.
        case now
        /// Before the first claim, or after a heartbeat interval of work without one.
        case beforeFirstClaim
    }

    /// Writes a registration deferred by `.beforeFirstClaim` (no-op otherwise): called before
    /// every claim, and by `heartbeatIfDue` once the interval has passed.
    func registerIfPending() async {
        guard let (registration, _) = pendingRegistration else { return }
        pendingRegistration = nil
        await write(registration)
    }

    private func write(_ registration: WorkerRegistration) async {
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
        if let (_, since) = pendingRegistration {
            let now = clock.now()
            if now - since >= configuration.leaseRenewalInterval || now < since { await registerIfPending() }
            return
        }
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

    /// Records that this process stopped gracefully; no heartbeats follow. A registration
    /// still deferred is dropped: nothing was written, so there is nothing to mark.
    public func markStopped() async {
        pendingRegistration = nil
        guard let registration else { return }
        self.registration = nil
        do {
            try await store.markWorkerStopped(workerID: registration.workerID, now: clock.now())
        } catch {
            logger.warning("could not record that the worker stopped; status will call it silent", metadata: ["error": "\(error)"])
        }
    }
}
