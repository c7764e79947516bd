import RefitCore

/// Waits until a wall-clock instant. The worker never polls: it computes when something is
/// next due and sleeps until then (or until woken). Injected so tests can drive time by hand.
public protocol WorkerSleeper: Sendable {
    /// Returns at or after `instant` by `clock`; throws `CancellationError` when canceled.
    func sleep(until instant: Instant, clock: any WallClock) async throws
}

/// Sleeps on the real clock, re-checking the wall clock at least every minute (so a clock
/// step or suspend/resume does not oversleep).
public struct SystemSleeper: WorkerSleeper {
    public init() {}
    public func sleep(until instant: Instant, clock: any WallClock) async throws {
        while true {
            let remaining = (instant - clock.now()).seconds
            if remaining <= 0 { return }
            try await Task.sleep(for: .seconds(min(remaining, 60)))
        }
    }
}
