/// The activity windows a pipeline produces for one activity, and when each becomes due.
///
/// Windows are the activity schedule's slices (`Factory.schedule(of:)`: its `scheduler`, else
/// its output dataset's availability) that overlap the pipeline's active period
/// (docs/SEMANTICS.md D3: `window.start < end && window.end > start`, so a weekly window overlapping
/// a one-day active period is produced). A window is due at
/// `(style == EndOfInterval ? end : start) + policy.delay` (D4), and windows are never produced
/// ahead of their due time — the `dueBy:` queries give exactly the windows that exist "now".
///
/// An empty or inverted interval (`end <= start`, as an active period or a request) has no
/// windows, although D3's formula taken literally would match a window around a zero-length
/// period.
///
/// All queries are O(1); results are lazy `SliceRange`s whose `count` a caller can check (say,
/// against a 1,000,000-window limit) before enumerating.
public struct ActivityWindows: Hashable, Sendable {
    public let schedule: SliceSchedule
    public let activeStart: Instant
    /// nil: no end (`9999-09-09`).
    public let activeEnd: Instant?
    public let delay: TimeSpan

    public var style: SliceStyle { schedule.style }

    public init(schedule: SliceSchedule, activeStart: Instant, activeEnd: Instant?, delay: TimeSpan = .zero) {
        self.schedule = schedule
        self.activeStart = activeStart
        self.activeEnd = activeEnd
        self.delay = delay
    }

    /// The windows of `activity` in `pipeline`, with the pipeline's active period (D3 defaults
    /// applied by `Pipeline.activePeriod`) and the activity's `policy.delay`.
    public init(activity: Activity, pipeline: Pipeline, factory: Factory) throws(ActivityWindowsError) {
        guard let availability = factory.schedule(of: activity) else {
            throw .noSchedule(activity: activity.name)
        }
        guard let period = pipeline.activePeriod else { throw .noActivePeriod(pipeline: pipeline.name) }
        let schedule: SliceSchedule
        do { schedule = try SliceSchedule(availability) } catch {
            throw .invalidSchedule(activity: activity.name, error)
        }
        self.init(schedule: schedule, activeStart: period.start, activeEnd: period.end, delay: activity.policy.delay)
    }

    // MARK: Due time

    /// When `window` may start (D4).
    public func dueTime(of window: Slice) -> Instant {
        let base = style == .endOfInterval ? window.end : window.start
        return Instant(secondsSinceEpoch: SliceSchedule.clamp(base.secondsSinceEpoch) + delay.seconds)
    }

    public func isDue(_ window: Slice, at now: Instant) -> Bool { dueTime(of: window) <= now }

    // MARK: Index ranges

    /// Schedule indices of the windows overlapping the active period: lower bound, and upper
    /// bound (nil when the period has no end). nil when the period is empty.
    public var activeIndices: (lower: Int, upper: Int?)? {
        guard let end = activeEnd else { return (schedule.index(containing: activeStart), nil) }
        guard let range = schedule.indices(overlapping: activeStart, end: end) else { return nil }
        return (range.lowerBound, range.upperBound)
    }

    /// Index of the newest window due at `now` (any window, active period ignored).
    public func lastDueIndex(at now: Instant) -> Int {
        let t = Instant(secondsSinceEpoch: SliceSchedule.clamp(now.secondsSinceEpoch) - delay.seconds)
        let k = schedule.index(containing: t)
        return style == .endOfInterval ? k - 1 : k
    }

    private func range(lower: Int, upper: Int?) -> SliceRange {
        guard let upper, lower <= upper else { return SliceRange(schedule: schedule, empty: ()) }
        return SliceRange(schedule: schedule, indices: lower...upper)
    }

    // MARK: Windows

    /// True when `window` is one of the windows of this activity (aligned and in the active period).
    public func contains(_ window: Slice) -> Bool {
        guard schedule.isAligned(window), window.end > activeStart else { return false }
        if let end = activeEnd { return window.start < end }
        return true
    }

    /// Every window of the active period; nil when the period has no end (use `dueBy:`).
    public var allWindows: SliceRange? {
        guard activeEnd != nil else { return nil }
        guard let active = activeIndices else { return SliceRange(schedule: schedule, empty: ()) }
        return range(lower: active.lower, upper: active.upper)
    }

    /// The windows of the active period that also overlap the requested `[from, to)`.
    public func windows(from: Instant, to: Instant) -> SliceRange {
        guard let active = activeIndices, let requested = schedule.indices(overlapping: from, end: to) else {
            return SliceRange(schedule: schedule, empty: ())
        }
        let upper = active.upper.map { min($0, requested.upperBound) } ?? requested.upperBound
        return range(lower: max(active.lower, requested.lowerBound), upper: upper)
    }

    /// The windows of the active period that are due at `now` — the ones that exist now.
    public func windows(dueBy now: Instant) -> SliceRange {
        guard let active = activeIndices else { return SliceRange(schedule: schedule, empty: ()) }
        let due = lastDueIndex(at: now)
        return range(lower: active.lower, upper: active.upper.map { min($0, due) } ?? due)
    }

    /// The windows of the active period overlapping `[from, to)` that are due at `now`.
    public func windows(from: Instant, to: Instant, dueBy now: Instant) -> SliceRange {
        windows(from: from, to: to).clamped(toIndices: Int.min...lastDueIndex(at: now))
    }

    /// The oldest window of the active period that is not yet due at `now`, with its due time:
    /// when the worker should wake up next. nil when every window is already due.
    public func nextDue(after now: Instant) -> (window: Slice, due: Instant)? {
        guard let active = activeIndices else { return nil }
        let k = max(active.lower, lastDueIndex(at: now) + 1)
        if let upper = active.upper, k > upper { return nil }
        let window = schedule.slice(at: k)
        return (window, dueTime(of: window))
    }
}

/// Why an activity has no windows to compute.
public enum ActivityWindowsError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSchedule(activity: String)
    case noActivePeriod(pipeline: String)
    case invalidSchedule(activity: String, SliceScheduleError)

    public var description: String {
        switch self {
        case .noSchedule(let a):
            "activity \(a) has neither a scheduler nor a known output dataset, so it has no schedule"
        case .noActivePeriod(let p):
            "pipeline \(p) has no start, so it has no active period"
        case .invalidSchedule(let a, let e):
            "activity \(a) has an invalid schedule: \(e)"
        }
    }
}

extension Factory {
    /// The windows of `activity` in `pipeline` (see `ActivityWindows`).
    public func windows(of activity: Activity, in pipeline: Pipeline) throws(ActivityWindowsError) -> ActivityWindows {
        try ActivityWindows(activity: activity, pipeline: pipeline, factory: self)
    }
}
