/// The tumbling slices of an `availability` (or activity `scheduler`), computed with
/// docs/SEMANTICS.md §1.2's formula.
///
/// Slices are numbered by an integer index `k` (negative before the anchor):
///
/// ```
/// A = anchorDateTime truncated to the frequency unit (default 0001-01-01T00:00:00Z)
///     Minute: seconds dropped; Hour: minutes and seconds dropped; Day and Week: time of day
///     dropped (D2: weeks keep the anchor's weekday; the default anchor is a Monday);
///     Month: first of the month, 00:00
/// fixed units:  slice_k = [A + k·P + offset, A + (k+1)·P + offset),  P = interval × unit
/// Month:        slice_k = [addMonths(A, k·interval) + offset, addMonths(A, (k+1)·interval) + offset)
/// ```
///
/// The offset is plain addition (D1), also for months: `Month`/1 with offset `3.08:00:00`
/// starts on the **4th** at 08:00, not the "3rd" the ADF documentation claims (§10.1).
///
/// Every query is O(1) arithmetic — nothing walks the slices — so a caller can count a
/// ten-thousand-year range before deciding to enumerate it. Instants are expected within about
/// ±35 million years of 1970; instants beyond `±supportedMagnitude` seconds are clamped so the
/// arithmetic can never overflow.
public struct SliceSchedule: Hashable, Sendable {
    public let frequency: Frequency
    public let interval: Int
    /// `anchorDateTime` (or 0001-01-01) truncated to the frequency unit.
    public let anchor: Instant
    public let offset: TimeSpan
    /// Kept for due times (D4); it does not move slice boundaries.
    public let style: SliceStyle

    /// Period in seconds for fixed-length frequencies; 0 for `Month`.
    private let periodSeconds: Int64
    /// For `Month`: the anchor's month index (months since year 0).
    private let anchorMonth: Int64

    /// Instants, anchors, offsets and periods are bounded by this many seconds (2^50, about
    /// 35.7 million years) so that every intermediate value stays far inside `Int64`.
    public static let supportedMagnitude: Int64 = 1 << 50

    public init(_ availability: Availability) throws(SliceScheduleError) {
        let interval = availability.interval
        guard interval >= 1 else { throw .intervalNotPositive(interval) }
        let offset = availability.offset ?? .zero
        guard abs(offset.seconds) <= Self.supportedMagnitude / 4 else { throw .offsetTooLarge(offset) }
        let rawAnchor = availability.anchorDateTime ?? Instant.dotNetMin
        guard abs(rawAnchor.secondsSinceEpoch) <= Self.supportedMagnitude / 4 else { throw .anchorOutOfRange(rawAnchor) }

        self.frequency = availability.frequency
        self.interval = interval
        self.offset = offset
        self.style = availability.style

        let unit: Int64
        switch availability.frequency {
        case .minute: unit = 60
        case .hour: unit = 3600
        case .day: unit = 86_400
        case .week: unit = 7 * 86_400
        case .month: unit = 0
        }
        if availability.frequency == .month {
            // ~35 million years of months at most, like the fixed-length bound below.
            guard Int64(interval) <= Self.supportedMagnitude / (31 * 86_400 * 4) else { throw .intervalTooLarge(interval, availability.frequency) }
            let month = rawAnchor.monthIndex()
            self.anchorMonth = month
            self.anchor = Self.monthStart(month)
            self.periodSeconds = 0
        } else {
            let (period, overflow) = Int64(interval).multipliedReportingOverflow(by: unit)
            guard !overflow, period <= Self.supportedMagnitude / 4 else { throw .intervalTooLarge(interval, availability.frequency) }
            self.periodSeconds = period
            self.anchorMonth = 0
            let truncation = availability.frequency == .week ? 86_400 : unit
            self.anchor = Instant(secondsSinceEpoch: Instant.floorDiv(rawAnchor.secondsSinceEpoch, truncation) * truncation)
        }
    }

    /// The length of every slice, or nil for `Month` (whose slices vary with the calendar).
    public var fixedPeriod: TimeSpan? { frequency == .month ? nil : TimeSpan(seconds: periodSeconds) }

    // MARK: Index arithmetic

    /// The index `k` of the slice containing `instant`.
    public func index(containing instant: Instant) -> Int {
        let t = Self.clamp(instant.secondsSinceEpoch) - offset.seconds
        if frequency == .month {
            let month = Instant(secondsSinceEpoch: t).monthIndex()
            return Int(Instant.floorDiv(month - anchorMonth, Int64(interval)))
        }
        return Int(Instant.floorDiv(t - anchor.secondsSinceEpoch, periodSeconds))
    }

    /// Start of slice `k` (which is also the end of slice `k - 1`).
    /// Indices far outside the supported range saturate instead of overflowing.
    public func boundary(_ k: Int) -> Instant {
        if frequency == .month {
            let maxMonths = Self.supportedMagnitude / (28 * 86_400)
            let months = Self.saturatingProduct(Int64(k), Int64(interval), limit: maxMonths)
            return Self.monthStart(anchorMonth + months) + offset
        }
        let shift = Self.saturatingProduct(Int64(k), periodSeconds, limit: Self.supportedMagnitude * 4)
        return Instant(secondsSinceEpoch: anchor.secondsSinceEpoch + shift + offset.seconds)
    }

    /// Slice number `k`.
    public func slice(at k: Int) -> Slice { Slice(start: boundary(k), end: boundary(k == .max ? k : k + 1)) }

    // MARK: Queries

    /// The slice whose half-open interval contains `instant`.
    public func slice(containing instant: Instant) -> Slice { slice(at: index(containing: instant)) }

    /// The slice that starts where `slice` ends (for an aligned slice, its successor).
    public func next(after slice: Slice) -> Slice { self.slice(containing: slice.end) }

    /// The slice that ends where `slice` starts (for an aligned slice, its predecessor).
    public func previous(before slice: Slice) -> Slice {
        self.slice(containing: Instant(secondsSinceEpoch: slice.start.secondsSinceEpoch - 1))
    }

    /// True when `slice` is exactly one of this schedule's slices.
    public func isAligned(_ slice: Slice) -> Bool { self.slice(containing: slice.start) == slice }

    /// The indices of the slices overlapping `[start, end)`; empty when `end <= start`.
    public func indices(overlapping start: Instant, end: Instant) -> ClosedRange<Int>? {
        guard start < end else { return nil }
        return index(containing: start)...index(containing: Instant(secondsSinceEpoch: end.secondsSinceEpoch - 1))
    }

    /// The slices overlapping `[start, end)` (`slice.start < end && slice.end > start`), lazily:
    /// creating the range is O(1) and nothing is materialized.
    public func slices(overlapping start: Instant, end: Instant) -> SliceRange {
        guard let range = indices(overlapping: start, end: end) else { return SliceRange(schedule: self, empty: ()) }
        return SliceRange(schedule: self, indices: range)
    }

    /// How many slices overlap `[start, end)`, without enumerating them.
    public func count(overlapping start: Instant, end: Instant) -> Int {
        indices(overlapping: start, end: end)?.count ?? 0
    }

    // MARK: Helpers

    static func saturatingProduct(_ a: Int64, _ b: Int64, limit: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow { return (a < 0) != (b < 0) ? -limit : limit }
        return min(max(product, -limit), limit)
    }

    static func clamp(_ seconds: Int64) -> Int64 {
        min(max(seconds, -supportedMagnitude), supportedMagnitude)
    }

    /// 00:00 on the first day of the month with the given index (months since year 0).
    static func monthStart(_ monthIndex: Int64) -> Instant {
        let year = Instant.floorDiv(monthIndex, 12)
        let month = Instant.floorMod(monthIndex, 12) + 1
        return Instant(secondsSinceEpoch: Instant.daysFromCivil(year: year, month: month, day: 1) * 86_400)
    }
}

/// Why an `availability` cannot be turned into slices.
public enum SliceScheduleError: Error, Hashable, Sendable, CustomStringConvertible {
    case intervalNotPositive(Int)
    case intervalTooLarge(Int, Frequency)
    case offsetTooLarge(TimeSpan)
    case anchorOutOfRange(Instant)

    public var description: String {
        switch self {
        case .intervalNotPositive(let n): "interval must be at least 1, got \(n)"
        case .intervalTooLarge(let n, let f): "interval \(n) × \(f.rawValue) is longer than Refit can schedule"
        case .offsetTooLarge(let o): "offset \(o) is longer than Refit can schedule"
        case .anchorOutOfRange(let a): "anchorDateTime \(a) is outside the range Refit can schedule"
        }
    }
}

/// A contiguous run of a schedule's slices, computed on demand (O(1) to create, count and
/// index). Positions are 0-based; `firstIndex` is the schedule index `k` of the first slice.
public struct SliceRange: RandomAccessCollection, Hashable, Sendable {
    public let schedule: SliceSchedule
    /// Schedule index of the first slice (meaningless when empty).
    public let firstIndex: Int
    public let count: Int

    public init(schedule: SliceSchedule, indices: ClosedRange<Int>) {
        self.schedule = schedule
        self.firstIndex = indices.lowerBound
        self.count = indices.count
    }

    /// An empty range of `schedule`.
    public init(schedule: SliceSchedule, empty: Void) {
        self.schedule = schedule
        self.firstIndex = 0
        self.count = 0
    }

    /// The schedule indices covered, nil when empty.
    public var scheduleIndices: ClosedRange<Int>? {
        count == 0 ? nil : firstIndex...(firstIndex + count - 1)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> Slice {
        precondition(position >= 0 && position < count, "SliceRange position out of bounds")
        return schedule.slice(at: firstIndex + position)
    }

    /// `[first.start, last.end)`, nil when empty.
    public var span: Slice? {
        guard let first = scheduleIndices else { return nil }
        return Slice(start: schedule.boundary(first.lowerBound), end: schedule.boundary(first.upperBound + 1))
    }

    /// The slices of this range whose schedule indices also lie in `other`'s (same schedule).
    public func clamped(toIndices other: ClosedRange<Int>?) -> SliceRange {
        guard let mine = scheduleIndices, let other, mine.overlaps(other) else {
            return SliceRange(schedule: schedule, empty: ())
        }
        return SliceRange(schedule: schedule, indices: mine.clamped(to: other))
    }
}
