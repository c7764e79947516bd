/// How an attempt's `runs` row reads once it ends: status, substatus, error class and message.
/// Pure, so every store maps an outcome the same way.
public enum RunStatus: String, Hashable, Sendable, CaseIterable {
    case inProgress = "InProgress", succeeded = "Succeeded", failed = "Failed", timedOut = "TimedOut"
    case canceled = "Canceled", skipped = "Skipped"
}

/// Why an attempt did not succeed, for history and alerting.
public enum RunErrorClass: String, Hashable, Sendable, CaseIterable {
    /// Failed, may pass on retry.
    case transient
    /// Failed, retrying cannot help.
    case terminal
    case timeout
    case canceled
    /// The worker died; its lease expired and another worker recovered the window.
    case crash
    /// The worker stopped gracefully before the attempt ended and gave the window back.
    case interrupted
}

/// The ended run row for an outcome, and the window transition that goes with it.
public struct RunRowPlan: Hashable, Sendable {
    public var status: RunStatus
    public var substatus: WindowSubstate?
    public var errorClass: RunErrorClass?
    public var message: String?

    /// Applies `outcome` to `machine` and says how the run row ends. `superseded` is the
    /// store's answer for a deployment that would replace a newer window's model: the attempt
    /// then ends Skipped/Superseded with that reason instead of Succeeded.
    public static func apply(_ outcome: AttemptOutcome, to machine: inout WindowStateMachine, at now: Instant,
                             superseded: String? = nil) -> (RunRowPlan, WindowStateMachine.Action) {
        switch outcome {
        case .succeeded:
            if let superseded {
                return (RunRowPlan(status: .skipped, substatus: .superseded, message: superseded), machine.attemptSkipped(.superseded))
            }
            return (RunRowPlan(status: .succeeded), machine.attemptSucceeded())
        case .failed(let classification, let message):
            let plan = RunRowPlan(status: .failed, errorClass: classification == .terminal ? .terminal : .transient, message: message)
            return (plan, machine.attemptFailed(classification, at: now))
        case .timedOut(let message):
            return (RunRowPlan(status: .timedOut, substatus: .timedOut, errorClass: .timeout, message: message),
                    machine.attemptTimedOut(at: now))
        case .canceled(let message):
            return (RunRowPlan(status: .canceled, substatus: .canceled, errorClass: .canceled, message: message),
                    machine.attemptCanceled())
        case .skipped(let substate, let reason):
            return (RunRowPlan(status: .skipped, substatus: substate, message: reason), machine.attemptSkipped(substate))
        }
    }

    public init(status: RunStatus, substatus: WindowSubstate? = nil, errorClass: RunErrorClass? = nil, message: String? = nil) {
        self.status = status; self.substatus = substatus; self.errorClass = errorClass; self.message = message
    }
}
