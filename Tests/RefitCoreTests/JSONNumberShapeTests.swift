import Testing
import RefitCore

/// `JSONString.numberShape` against the two regular expressions it stands for, and
/// `WallInstant.iso8601Milliseconds`.
@Suite("JSON number shapes and millisecond timestamps")
struct JSONNumberShapeTests {
    static func expected(_ text: String) -> JSONString.NumberShape? {
        if text.wholeMatch(of: /-?(0|[1-9][0-9]{0,17})/) != nil { return .integer }
        if text.wholeMatch(of: /-?(0|[1-9][0-9]*)\.[0-9]+([eE][-+]?[0-9]+)?/) != nil { return .decimal }
        return nil
    }

    @Test("agrees with the regular expressions on hand-picked and generated strings")
    func agreesWithTheRegularExpressions() {
        var samples = ["", "-", "0", "-0", "00", "01", "7", "42", "-42", "123456789012345678", "1234567890123456789",
                       "0.5", "-0.5", "0.", ".5", "1.", "1.0e", "1.0e5", "1.0E+5", "1.0e-05", "1e5", "1.2.3", "1,5",
                       "12a", "a12", " 1", "1 ", "+1", "--1", "3.14159", "00.5", "10.25e+", "NaN", "inf", "true", "-",
                       "2026-01-01T00:00:00Z", "٣", "１"]
        // Every string of up to 4 characters over a small alphabet.
        let alphabet = ["0", "1", "9", "-", "+", ".", "e", "E", "x"]
        var frontier = [""]
        for _ in 1...4 {
            frontier = frontier.flatMap { prefix in alphabet.map { prefix + $0 } }
            samples += frontier
        }
        for text in samples {
            #expect(JSONString.numberShape(text) == Self.expected(text), "\(text)")
        }
    }

    @Test("millisecond timestamps truncate to the millisecond, also before the epoch")
    func milliseconds() {
        #expect(WallInstant(sinceEpoch: .zero).iso8601Milliseconds == "1970-01-01T00:00:00.000Z")
        #expect(WallInstant(sinceEpoch: .seconds(1_767_225_600) + .nanoseconds(123_999_999)).iso8601Milliseconds
                == "2026-01-01T00:00:00.123Z")
        #expect(WallInstant(sinceEpoch: .seconds(1_767_225_659) + .milliseconds(7)).iso8601Milliseconds
                == "2026-01-01T00:00:59.007Z")
        #expect(WallInstant(sinceEpoch: .milliseconds(-1)).iso8601Milliseconds == "1969-12-31T23:59:59.999Z")
    }
}
