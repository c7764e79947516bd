/// What recovering a lost lease does to its window and run, decided once for every store: an
/// operator's pending cancel ends the attempt Canceled; a lost attempt whose recorded job the next
/// attempt resumes is given back (once per job, the store says which); any other is charged.
public enum LeaseRecovery {
    /// Applies the recovery to `machine` and says how the open run ends.
    /// - Parameters:
    ///   - ownerGone: the holder's process is known to have ended (recovered before expiry).
    ///   - resumableJob: the lost run's recorded job, when the next attempt will resume it uncharged.
    public static func apply(to machine: inout WindowStateMachine, owner: String, expiry: Instant, now: Instant,
                             ownerGone: Bool, cancel: CancelRequest?, resumableJob: String?) -> (RunRowPlan, WindowStateMachine.Action) {
        var message = ownerGone && expiry >= now
            ? "The worker \(owner) is gone (its process ended); its lease was recovered at once."
            : "The worker \(owner) stopped before the attempt finished (its lease expired at \(expiry.iso8601))."
        if let cancel {
            let action = machine.attemptCanceled()
            return (RunRowPlan(status: .canceled, substatus: .canceled, errorClass: .canceled, message: cancel.message + " " + message), action)
        }
        if let job = resumableJob {
            message += " Its job \(job) is resumed by the next attempt, so the lost attempt is not charged."
            return (RunRowPlan(status: .failed, errorClass: .crash, message: message), machine.leaseExpiredResumable(at: now))
        }
        return (RunRowPlan(status: .failed, errorClass: .crash, message: message), machine.leaseExpired(at: now))
    }
}
