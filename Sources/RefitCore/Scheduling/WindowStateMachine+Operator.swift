/// Operator transitions added after the machine's core table: an operator marking windows
/// Skipped (ADF's Set-SliceStatus) and a backfill queueing them. They live in their own file
/// because the stored fields are `private(set)`; each transition rebuilds the machine through
/// the persisted-state initializer, which keeps the core file's invariants in one place.
extension WindowStateMachine {
    /// An operator marks the window Skipped: allowed from Waiting, Failed and Ready, refused
    /// while an attempt runs (`.none`). Like any Skipped window it no longer satisfies its
    /// consumers' dependencies (D7), so leaving Ready makes them wait again.
    public mutating func skipRequested() -> Action {
        guard status == .waiting || status == .failed || status == .ready else { return .none }
        self = WindowStateMachine(status: .skipped, substate: nil, attempts: attempts, longRetryRound: longRetryRound,
                                  nextAttemptAt: nil, nextTrigger: nextTrigger, budget: budget)
        return .markSkipped
    }

    /// A backfill queues the window. A finished window (Ready, Failed, Skipped) runs again like
    /// a rerun — fresh retry budget, inputs evaluated again — but records trigger `backfill`. A
    /// Waiting window that never ran keeps its state and only records the backfill as its
    /// trigger; one already retrying keeps its budget (the backfill must not grant more retries
    /// than a rerun would take away). Refused while an attempt runs (`.none`).
    public mutating func backfillRequested(_ now: Instant) -> Action {
        switch status {
        case .inProgress:
            return .none
        case .waiting:
            guard attempts == 0 else { return .none }
            self = WindowStateMachine(status: status, substate: substate, attempts: 0, longRetryRound: 0,
                                      nextAttemptAt: nextAttemptAt, nextTrigger: .backfill, budget: budget)
            return .none
        case .ready, .failed, .skipped:
            self = WindowStateMachine(status: .waiting, substate: .datasetDependencies, attempts: 0, longRetryRound: 0,
                                      nextAttemptAt: now, nextTrigger: .backfill, budget: budget)
            return .checkDependencies
        }
    }
}
