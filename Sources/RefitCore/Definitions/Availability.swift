/// The unit of a slice or activity window (`availability.frequency` / `scheduler.frequency`).
public enum Frequency: String, Sendable, Hashable, CaseIterable, Codable {
    case minute = "Minute", hour = "Hour", day = "Day", week = "Week", month = "Month"
}

/// Whether a slice is produced at the start or the end of its interval (default: end).
public enum SliceStyle: String, Sendable, Hashable, CaseIterable, Codable {
    case startOfInterval = "StartOfInterval", endOfInterval = "EndOfInterval"
}

/// A dataset's `availability` or an activity's `scheduler` (docs/SEMANTICS.md §1.1).
public struct Availability: Hashable, Sendable {
    public var frequency: Frequency
    /// Multiplier of `frequency`; always ≥ 1 once validated.
    public var interval: Int
    public var style: SliceStyle
    /// nil = ADF's default anchor, 0001-01-01T00:00:00Z.
    public var anchorDateTime: Instant?
    public var offset: TimeSpan?

    public init(frequency: Frequency, interval: Int, style: SliceStyle = .endOfInterval,
                anchorDateTime: Instant? = nil, offset: TimeSpan? = nil) {
        self.frequency = frequency
        self.interval = interval
        self.style = style
        self.anchorDateTime = anchorDateTime
        self.offset = offset
    }
}
