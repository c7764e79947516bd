import Testing
@testable import RefitCore

/// `Instant` from an ISO 8601 literal; records a test failure (instead of crashing) when the
/// literal does not parse.
func at(_ iso: String, sourceLocation: SourceLocation = #_sourceLocation) -> Instant {
    guard let instant = Instant.parse(iso) else {
        Issue.record("bad test literal \(iso)", sourceLocation: sourceLocation)
        return .dotNetMin
    }
    return instant
}

func slice(_ start: String, _ end: String, sourceLocation: SourceLocation = #_sourceLocation) -> Slice {
    Slice(start: at(start, sourceLocation: sourceLocation), end: at(end, sourceLocation: sourceLocation))
}

func schedule(_ frequency: Frequency, _ interval: Int, style: SliceStyle = .endOfInterval,
              anchor: String? = nil, offset: String? = nil,
              sourceLocation: SourceLocation = #_sourceLocation) throws -> SliceSchedule {
    let offsetSpan = try offset.map { try #require(TimeSpan.parse($0), sourceLocation: sourceLocation) }
    return try SliceSchedule(Availability(frequency: frequency, interval: interval, style: style,
                                          anchorDateTime: anchor.map { at($0, sourceLocation: sourceLocation) },
                                          offset: offsetSpan))
}

let noPosition = SourcePosition(file: "test.json", line: 1, column: 1)
