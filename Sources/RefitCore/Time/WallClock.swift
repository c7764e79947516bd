import Foundation

/// Where "now" comes from. Every scheduling decision takes its time from an injected clock so
/// tests can move time by hand instead of sleeping.
public protocol WallClock: Sendable {
    func now() -> Instant
}

/// The machine's clock, truncated to whole seconds (Refit's time resolution).
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Instant {
        Instant(secondsSinceEpoch: Int64(Date().timeIntervalSince1970.rounded(.down)))
    }
}

/// A clock that only moves when told to: for tests and for `refit plan --now`.
public final class ManualWallClock: WallClock, @unchecked Sendable {
    // @unchecked: `current` is only touched while holding `lock`.
    private let lock = NSLock()
    private var current: Instant

    public init(_ start: Instant) { current = start }

    public func now() -> Instant {
        lock.lock(); defer { lock.unlock() }
        return current
    }

    /// Moves the clock forward (or back, for a negative span).
    public func advance(by span: TimeSpan) {
        lock.lock(); defer { lock.unlock() }
        current = current + span
    }

    public func set(_ instant: Instant) {
        lock.lock(); defer { lock.unlock() }
        current = instant
    }
}
