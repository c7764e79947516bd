import RefitCore
import RefitWorker

/// Sleeps on a manual clock: returns once the test has moved the clock past the instant, so a
/// worker's run loop advances exactly as fast as the test moves time.
public struct ManualSleeper: WorkerSleeper {
    public init() {}

    public func sleep(until instant: Instant, clock: any WallClock) async throws {
        while clock.now() < instant {
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
