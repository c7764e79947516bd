/// The three kinds of value ADF v1 expressions compute with.
public enum ExpressionType: String, Hashable, Sendable, CustomStringConvertible {
    case dateTime = "DateTime", integer = "integer", string = "string"

    /// "a DateTime", "an integer", "a string": for error sentences.
    public var description: String {
        switch self {
        case .dateTime: "a DateTime"
        case .integer: "an integer"
        case .string: "a string"
        }
    }
}

/// A computed value: a DateTime (an `Instant`, UTC), a 64-bit integer or a string.
public enum ExpressionValue: Hashable, Sendable, CustomStringConvertible {
    case dateTime(Instant)
    case integer(Int64)
    case string(String)

    public var type: ExpressionType {
        switch self {
        case .dateTime: .dateTime
        case .integer: .integer
        case .string: .string
        }
    }

    /// The value as text when no format is given. A DateTime prints as ISO 8601 UTC
    /// (`2016-02-13T00:00:00Z`) — a Refit decision (D9) where .NET would use the server's
    /// culture; write `{0:fmt}` to choose a .NET format.
    public var text: String {
        switch self {
        case .dateTime(let instant): instant.iso8601
        case .integer(let value): String(value)
        case .string(let value): value
        }
    }

    public var description: String { text }

    public var dateTime: Instant? {
        if case .dateTime(let instant) = self { return instant }
        return nil
    }
}

/// The values of the four system variables (docs/SEMANTICS.md §2.4) while evaluating.
public struct ExpressionContext: Hashable, Sendable {
    public var sliceStart: Instant
    public var sliceEnd: Instant
    public var windowStart: Instant
    public var windowEnd: Instant

    public init(sliceStart: Instant, sliceEnd: Instant, windowStart: Instant, windowEnd: Instant) {
        self.sliceStart = sliceStart; self.sliceEnd = sliceEnd
        self.windowStart = windowStart; self.windowEnd = windowEnd
    }

    /// ADF: "WindowStart, WindowEnd, and SliceStart and SliceEnd always map to the same time
    /// period and a single output slice" [FN1], so one window sets all four.
    public init(window: Slice) {
        self.init(sliceStart: window.start, sliceEnd: window.end, windowStart: window.start, windowEnd: window.end)
    }

    public subscript(variable: ExpressionVariable) -> Instant {
        switch variable {
        case .sliceStart: sliceStart
        case .sliceEnd: sliceEnd
        case .windowStart: windowStart
        case .windowEnd: windowEnd
        }
    }
}

/// ADF's system variables.
public enum ExpressionVariable: String, Hashable, Sendable, CaseIterable {
    case sliceStart = "SliceStart", sliceEnd = "SliceEnd", windowStart = "WindowStart", windowEnd = "WindowEnd"
}

/// A problem in an expression: where (1-based column, in Unicode scalars, within the text that
/// was parsed — for a `$$` value, the whole value including `$$`) and one sentence saying what.
public struct ExpressionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var column: Int
    public var message: String

    public init(column: Int, _ message: String) {
        self.column = column
        self.message = message
    }

    /// 0-based version of `column`.
    public var offset: Int { column - 1 }
    public var description: String { message }
}
