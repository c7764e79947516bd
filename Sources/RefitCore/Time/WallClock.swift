import Foundation

/// A point on the wall clock: a `Duration` since 1970-01-01T00:00:00Z, with sub-second
/// resolution. It is the `Instant` of every `WallClock`; Refit's scheduling works in whole
/// seconds (`Instant`), and `instant` / `init(_:)` convert between the two.
public struct WallInstant: InstantProtocol, CustomStringConvertible {
    /// Time since the Unix epoch (negative before it).
    public var sinceEpoch: Duration

    public init(sinceEpoch: Duration) { self.sinceEpoch = sinceEpoch }

    /// The start of Refit's whole second `instant`.
    public init(_ instant: Instant) { sinceEpoch = .seconds(instant.secondsSinceEpoch) }

    /// The same moment as `date`.
    public init(_ date: Date) { sinceEpoch = .seconds(date.timeIntervalSince1970) }

    /// The whole second this instant falls in (truncated down, also before the epoch).
    public var instant: Instant {
        let (seconds, attoseconds) = sinceEpoch.components
        return Instant(secondsSinceEpoch: attoseconds < 0 ? seconds - 1 : seconds)
    }

    /// The same moment as a Foundation `Date`.
    public var date: Date {
        let (seconds, attoseconds) = sinceEpoch.components
        return Date(timeIntervalSince1970: Double(seconds) + Double(attoseconds) / 1e18)
    }

    public func advanced(by duration: Duration) -> WallInstant { WallInstant(sinceEpoch: sinceEpoch + duration) }
    public func duration(to other: WallInstant) -> Duration { other.sinceEpoch - sinceEpoch }
    public static func < (lhs: WallInstant, rhs: WallInstant) -> Bool { lhs.sinceEpoch < rhs.sinceEpoch }

    public static func + (lhs: WallInstant, rhs: Duration) -> WallInstant { lhs.advanced(by: rhs) }
    public static func - (lhs: WallInstant, rhs: Duration) -> WallInstant { lhs.advanced(by: .zero - rhs) }
    public static func - (lhs: WallInstant, rhs: WallInstant) -> Duration { rhs.duration(to: lhs) }

    public var description: String { "\(instant.iso8601) + \(sinceEpoch - .seconds(instant.secondsSinceEpoch))" }

    /// `2026-01-01T00:00:00.123Z`: ISO 8601 with milliseconds (truncated), the form of log lines.
    public var iso8601Milliseconds: String {
        let second = instant
        let (_, attoseconds) = (sinceEpoch - .seconds(second.secondsSinceEpoch)).components
        let millis = Int(attoseconds / 1_000_000_000_000_000)
        var text = second.iso8601
        text.removeLast()
        let digits = String(millis)
        return text + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}

/// Where "now" comes from, and how to wait for a later now: a Swift `Clock` on the wall clock.
/// Every scheduling decision takes its time from an injected clock, and every deadline and
/// sleep (the worker's wake-ups, lease renewals, grace periods, probe and activity timeouts,
/// an activity's polling) goes through the same one, so tests move time by hand instead of
/// sleeping and no deadline is ever compared across two clocks.
///
/// Deadlines and sleeps go through the injected WallClock; elapsed-time measurements use
/// ContinuousClock. Durations that only measure (metrics, log lines, health ages, a database
/// busy retry, test helpers waiting for a child process) are not deadlines of the schedule and
/// must not jump with a clock step, so they stay on `ContinuousClock`.
public protocol WallClock: Clock where Instant == WallInstant, Duration == Swift.Duration {}

extension WallClock {
    /// Now, in Refit's whole seconds (truncated down): what scheduling code works with.
    public func now() -> RefitCore.Instant { now.instant }

    /// `span` from this very moment, to the clock's precision: the end of a time limit (an
    /// attempt's timeout, a probe's, the grace period), which must not lose the part of the
    /// current second already gone, as `now() + span` would.
    public func deadline(after span: TimeSpan) -> WallInstant { now.advanced(by: .seconds(span.seconds)) }

    /// Returns once the clock has reached `deadline`; throws `CancellationError` when canceled.
    public func sleep(until deadline: WallInstant) async throws {
        try await sleep(until: deadline, tolerance: nil)
    }

    /// Returns once the clock has reached the start of Refit's whole second `instant`; throws
    /// `CancellationError` when canceled.
    public func sleep(until instant: RefitCore.Instant) async throws {
        try await sleep(until: WallInstant(instant), tolerance: nil)
    }
}

/// The machine's real-time clock. A sleep re-checks the clock at least every second, so a clock
/// step or a suspend/resume does not make it oversleep.
public struct SystemWallClock: WallClock {
    /// The longest stretch slept without looking at the wall clock again. Short for a second
    /// reason: Swift's runtime keeps a canceled `Task.sleep` (its timer and allocation) until the
    /// sleep's own deadline passes (swiftlang/swift#60441). Every attempt sleeps toward its
    /// timeout and is usually canceled long before it; with minute-long stretches a backfill kept
    /// every attempt of the last minute alive in memory (chain-1440: 6,075 sleeps, 850 KB at the
    /// peak, under heaptrack). A second bounds that to the attempts of the last second, for one
    /// wake-up a second per sleeping task.
    static let maximumSleepChunk: Duration = .seconds(1)

    public init() {}

    public var now: WallInstant {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallInstant(sinceEpoch: .seconds(Int64(spec.tv_sec)) + .nanoseconds(Int64(spec.tv_nsec)))
    }

    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: WallInstant, tolerance: Duration?) async throws {
        while true {
            let remaining = now.duration(to: deadline)
            if remaining <= .zero { return }
            try await Task.sleep(for: min(remaining, Self.maximumSleepChunk), tolerance: tolerance)
        }
    }
}

/// A clock that only moves when told to: for tests and for `refit plan --now`. A sleep returns
/// once the clock has been moved to or past its deadline, so code sleeping on it advances
/// exactly as fast as the test moves time.
public final class ManualWallClock: WallClock, @unchecked Sendable {
    // @unchecked: `current`, `sleepers` and `nextSleeper` are only touched while holding `lock`.
    private let lock = NSLock()
    private var current: WallInstant
    private var sleepers: [Int: (deadline: WallInstant, continuation: CheckedContinuation<Void, any Error>)] = [:]
    private var nextSleeper = 0

    public init(_ start: RefitCore.Instant) { current = WallInstant(start) }
    public init(_ start: WallInstant) { current = start }

    public var now: WallInstant { lock.withLock { current } }

    public var minimumResolution: Duration { .nanoseconds(1) }

    /// Moves the clock forward (or back, for a negative span), waking the sleeps it reaches.
    public func advance(by span: TimeSpan) { advance(by: .seconds(span.seconds)) }

    /// Moves the clock forward (or back, for a negative duration), waking the sleeps it reaches.
    public func advance(by duration: Duration) { move { $0 = $0.advanced(by: duration) } }

    /// Sets the clock to the start of `instant`, waking the sleeps it reaches.
    public func set(_ instant: RefitCore.Instant) { set(WallInstant(instant)) }

    /// Sets the clock to `instant`, waking the sleeps it reaches.
    public func set(_ instant: WallInstant) { move { $0 = instant } }

    /// Sleeps started and not yet woken (for tests that wait until something sleeps).
    public var sleeperCount: Int { lock.withLock { sleepers.count } }

    private func move(_ change: (inout WallInstant) -> Void) {
        let woken: [CheckedContinuation<Void, any Error>] = lock.withLock {
            change(&current)
            let due = sleepers.filter { $0.value.deadline <= current }
            for key in due.keys { sleepers[key] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    public func sleep(until deadline: WallInstant, tolerance: Duration?) async throws {
        let id = lock.withLock {
            nextSleeper += 1
            return nextSleeper
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Under the lock: a move or a cancellation either sees this sleeper registered or
                // happened before it, which the checks here then see.
                let outcome: Result<Void, any Error>? = lock.withLock {
                    if current >= deadline { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    sleepers[id] = (deadline, continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = lock.withLock { sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
