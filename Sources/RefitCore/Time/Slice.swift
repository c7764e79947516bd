/// A half-open time interval `[start, end)`: one dataset slice or one activity window.
///
/// ADF speaks of slices (datasets) and windows (activities); both are tumbling intervals with
/// the same shape, so Refit uses one value type for both.
public struct Slice: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var start: Instant
    /// Exclusive.
    public var end: Instant

    public init(start: Instant, end: Instant) {
        self.start = start
        self.end = end
    }

    public var duration: TimeSpan { end - start }

    /// True when `instant` lies in `[start, end)`.
    public func contains(_ instant: Instant) -> Bool { start <= instant && instant < end }

    /// Overlap of half-open intervals, the rule docs/SEMANTICS.md D3 uses for active periods:
    /// `start < otherEnd && end > otherStart`.
    public func overlaps(start otherStart: Instant, end otherEnd: Instant) -> Bool {
        start < otherEnd && end > otherStart
    }

    public func overlaps(_ other: Slice) -> Bool { overlaps(start: other.start, end: other.end) }

    /// Ordered by start, then end: the order of `OldestFirst`.
    public static func < (a: Slice, b: Slice) -> Bool { (a.start, a.end) < (b.start, b.end) }

    /// `[2017-04-01T00:00:00Z, 2017-04-02T00:00:00Z)`.
    public var description: String { "[\(start), \(end))" }
}
