/// The availability check of one external dataset slice (`policy.externalData`, docs/SEMANTICS.md
/// §2.2, D4, D11) as a value: when to look, what a probe outcome means, when to give up.
///
/// - The first check is at `sliceEnd + dataDelay`; a slice whose moment has passed is checked
///   at once (ADF: "this setting does not affect slices in the past").
/// - Absent data (or a probe error that may pass) → another check `retryInterval` later.
///   **Refit decision:** past slices wait `retryInterval` too, rather than ADF's immediate
///   retries, so a backfill whose data is still being copied gets the same grace as a live slice.
/// - At most `maximumRetry` checks (at least one); all absent → Failed/TimedOut.
/// - `validation.minimumSizeMB` larger than the data → Failed/Validation.
/// - Ready records the data's fingerprint (D11).
public struct ExternalSliceCheck: Hashable, Sendable {
    public private(set) var status: WindowStatus
    public private(set) var substate: WindowSubstate?
    public private(set) var checkCount: Int
    public private(set) var nextCheckAt: Instant?
    public private(set) var fingerprint: DataFingerprint?
    /// The last reason the slice is not Ready (absent detail, probe error, validation failure).
    public private(set) var lastMessage: String?
    public let policy: Dataset.ExternalDataPolicy
    public let validation: Dataset.ValidationPolicy?

    public enum Action: Hashable, Sendable {
        case none
        /// Probe again at this time.
        case scheduleCheck(at: Instant)
        /// The slice is Ready: windows depending on it may run.
        case markReady
        /// The slice is Failed (TimedOut or Validation): dependants stay Waiting.
        case markFailed
    }

    /// A new external slice. `policy` nil uses ADF's defaults (Refit decision: an external
    /// dataset without `externalData` is still checked, so a window never runs without data).
    public init(slice: Slice, policy: Dataset.ExternalDataPolicy?, validation: Dataset.ValidationPolicy?) {
        self.init(status: .waiting, substate: .validation, checkCount: 0,
                  nextCheckAt: slice.end + (policy?.dataDelay ?? .zero), fingerprint: nil, lastMessage: nil,
                  policy: policy ?? Dataset.ExternalDataPolicy(), validation: validation)
    }

    /// A slice as persisted.
    public init(status: WindowStatus, substate: WindowSubstate?, checkCount: Int, nextCheckAt: Instant?,
                fingerprint: DataFingerprint?, lastMessage: String?, policy: Dataset.ExternalDataPolicy,
                validation: Dataset.ValidationPolicy?) {
        self.status = status; self.substate = substate; self.checkCount = checkCount
        self.nextCheckAt = nextCheckAt; self.fingerprint = fingerprint; self.lastMessage = lastMessage
        self.policy = policy; self.validation = validation
    }

    /// The most checks this slice gets.
    public var maximumChecks: Int { max(1, policy.maximumRetry) }

    /// Whether a probe is due at `now`.
    public func isCheckDue(at now: Instant) -> Bool {
        guard status == .waiting, let next = nextCheckAt else { return false }
        return next <= now
    }

    /// The slice failed (late or invalid data), or it is Ready but its data changed since
    /// (`dataChanged`), and a window reading it was rerun or backfilled: checks start again from
    /// the first, now, with the full `maximumRetry`, and a Ready slice gives up its old
    /// fingerprint, so the re-run reads and records the data as it is now.
    public mutating func rearmed(_ now: Instant, dataChanged: Bool = false) -> Action {
        guard status == .failed || (status == .ready && dataChanged) else { return .none }
        if status == .ready { fingerprint = nil }
        status = .waiting
        substate = .validation
        checkCount = 0
        nextCheckAt = now
        lastMessage = nil
        return .scheduleCheck(at: now)
    }

    /// Applies one probe's outcome, observed at `now`.
    public mutating func checked(_ outcome: ProbeOutcome, at now: Instant) -> Action {
        guard status == .waiting else { return .none }
        checkCount += 1
        switch outcome {
        case .present(let seen):
            if let minimum = validation?.minimumSizeMB, Double(seen.totalBytes) < minimum * 1_048_576 {
                status = .failed
                substate = .validation
                nextCheckAt = nil
                lastMessage = "the data is \(seen.totalBytes) bytes, below the minimum of \(minimum) MB"
                return .markFailed
            }
            status = .ready
            substate = nil
            nextCheckAt = nil
            fingerprint = seen
            lastMessage = nil
            return .markReady
        case .absent(let detail):
            return retryOrTimeOut(at: now, message: detail)
        case .failed(let message, let retryable):
            guard retryable else {
                status = .failed
                substate = nil
                nextCheckAt = nil
                lastMessage = message
                return .markFailed
            }
            return retryOrTimeOut(at: now, message: message)
        }
    }

    /// The probe did not answer within `retryTimeout`: a check that found nothing.
    public mutating func checkTimedOut(at now: Instant) -> Action {
        guard status == .waiting else { return .none }
        checkCount += 1
        return retryOrTimeOut(at: now, message: "the storage probe did not answer within \(policy.retryTimeout)")
    }

    /// Operator "validate again" / rerun: a fresh set of checks starting now.
    public mutating func recheckRequested(_ now: Instant) -> Action {
        status = .waiting
        substate = .validation
        checkCount = 0
        nextCheckAt = now
        fingerprint = nil
        lastMessage = nil
        return .scheduleCheck(at: now)
    }

    private mutating func retryOrTimeOut(at now: Instant, message: String) -> Action {
        lastMessage = message
        if checkCount >= maximumChecks {
            status = .failed
            substate = .timedOut
            nextCheckAt = nil
            return .markFailed
        }
        substate = .validationRetry
        let at = now + policy.retryInterval
        nextCheckAt = at
        return .scheduleCheck(at: at)
    }
}
