/// A signed duration in whole seconds, written as .NET's `TimeSpan` (docs/SEMANTICS.md D8).
public struct TimeSpan: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }
    public static func minutes(_ m: Int64) -> TimeSpan { TimeSpan(seconds: m * 60) }
    public static func hours(_ h: Int64) -> TimeSpan { TimeSpan(seconds: h * 3600) }
    public static func days(_ d: Int64) -> TimeSpan { TimeSpan(seconds: d * 86_400) }
    public static let zero = TimeSpan(seconds: 0)

    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.seconds < rhs.seconds }
    public static func + (lhs: TimeSpan, rhs: TimeSpan) -> TimeSpan { TimeSpan(seconds: lhs.seconds + rhs.seconds) }
    public static func * (lhs: TimeSpan, rhs: Int64) -> TimeSpan { TimeSpan(seconds: lhs.seconds * rhs) }
    public static prefix func - (value: TimeSpan) -> TimeSpan { TimeSpan(seconds: -value.seconds) }

    public var isNegative: Bool { seconds < 0 }

    /// `[-][d.]hh:mm:ss` as .NET prints it.
    public var description: String {
        let total = abs(seconds)
        let d = total / 86_400, h = (total % 86_400) / 3600, m = (total % 3600) / 60, s = total % 60
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return (seconds < 0 ? "-" : "") + (d > 0 ? "\(d)." : "") + "\(two(h)):\(two(m)):\(two(s))"
    }

    /// Parses .NET's `TimeSpan` forms: `d`, `hh:mm`, `hh:mm:ss`, `d.hh:mm[:ss]`, `d:hh:mm:ss`,
    /// each with an optional leading `-` and `.fffffff` seconds fraction (dropped).
    /// As in .NET (and ADF's documentation), `24:00:00` is 24 *days*: when the first of three
    /// colon-separated parts is above 23 it is read as `d:hh:mm`.
    public static func parse(_ text: String) -> TimeSpan? {
        var s = Substring(text.trimmingCharacters())
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() }
        guard !s.isEmpty else { return nil }
        // Split off a fraction on the seconds (only after the last colon).
        var mainPart = s
        if let lastColon = s.lastIndex(of: ":"), let dot = s[lastColon...].firstIndex(of: ".") {
            let fraction = s[s.index(after: dot)...]
            guard !fraction.isEmpty, fraction.count <= 7, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            mainPart = s[..<dot]
        }
        var days: Int64 = 0
        var clock = mainPart
        if let dot = mainPart.firstIndex(of: "."), let colon = mainPart.firstIndex(of: ":"), dot < colon {
            guard let d = digits(mainPart[..<dot]) else { return nil }
            days = d
            clock = mainPart[mainPart.index(after: dot)...]
        }
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        let values = parts.compactMap { digits($0) }
        guard values.count == parts.count else { return nil }
        var h: Int64 = 0, m: Int64 = 0, sec: Int64 = 0
        switch values.count {
        case 1:
            guard days == 0, clock == mainPart else { return nil }
            days = values[0]
        case 2:
            h = values[0]; m = values[1]
        case 3:
            if values[0] > 23 && clock == mainPart {
                days = values[0]; h = values[1]; m = values[2]
            } else {
                h = values[0]; m = values[1]; sec = values[2]
            }
        case 4:
            guard clock == mainPart else { return nil }
            days = values[0]; h = values[1]; m = values[2]; sec = values[3]
        default:
            return nil
        }
        guard h <= 23, m <= 59, sec <= 59, days <= 10_675_199 else { return nil }
        let total = days * 86_400 + h * 3600 + m * 60 + sec
        return TimeSpan(seconds: negative ? -total : total)
    }

    private static func digits(_ s: Substring) -> Int64? {
        guard !s.isEmpty, s.count <= 8, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(s)
    }
}
