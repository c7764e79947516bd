/// .NET date/time formatting in the invariant culture, for `partitionedBy` formats and
/// `Text.Format('{0:fmt}', …)` (docs/SEMANTICS.md D10).
///
/// Custom specifiers: `d dd ddd dddd`, `M MM MMM MMMM`, `y yy yyy yyyy…`, `h hh` (12-hour clock —
/// ADF's own partition sample writes `hh` for the hour, which therefore prints `05` at 17:00;
/// Refit keeps .NET's meaning), `H HH`, `m mm`, `s ss`, `f…fffffff`, `F…FFFFFFF`, `t tt`, `g`,
/// `K`, `z zz zzz`, `:` and `/` (invariant separators), `'…'` / `"…"` literals, `\x` escapes
/// and `%x` (one specifier on its own). Every other character is copied. Refit's instants are
/// whole seconds in UTC, so fractions print as zeros, `K` prints `Z` and `z` prints `+0`.
///
/// A one-character pattern is a .NET *standard* format: `d D f F g G m M o O r R s t T u U y Y`
/// are supported with their invariant-culture patterns, any other single character is
/// rejected (as .NET does) with a hint to write `%x`.
public enum DotNetDateFormat {
    public static let monthNames = ["January", "February", "March", "April", "May", "June", "July",
                                    "August", "September", "October", "November", "December"]
    public static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// Invariant-culture expansions of the standard (single-character) formats.
    static let standardFormats: [Character: String] = [
        "d": "MM/dd/yyyy",
        "D": "dddd, dd MMMM yyyy",
        "f": "dddd, dd MMMM yyyy HH:mm",
        "F": "dddd, dd MMMM yyyy HH:mm:ss",
        "g": "MM/dd/yyyy HH:mm",
        "G": "MM/dd/yyyy HH:mm:ss",
        "m": "MMMM dd", "M": "MMMM dd",
        "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "t": "HH:mm",
        "T": "HH:mm:ss",
        "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        "U": "dddd, dd MMMM yyyy HH:mm:ss",
        "y": "yyyy MMMM", "Y": "yyyy MMMM",
    ]

    /// Formats `instant` (UTC) with a .NET custom or standard date/time format string.
    /// An empty pattern means `G`, as in .NET.
    public static func format(_ instant: Instant, _ pattern: String) throws(DotNetFormatError) -> String {
        let chars = Array(pattern)
        if chars.isEmpty { return try formatCustom(instant, Array(standardFormats["G"] ?? "")) }
        if chars.count == 1 {
            guard let expansion = standardFormats[chars[0]] else {
                throw DotNetFormatError(offset: 0, message:
                    "format '\(pattern)' is a single character, which .NET reads as a standard format, and '\(pattern)' is not one; write '%\(pattern)' for the specifier on its own")
            }
            return try formatCustom(instant, Array(expansion))
        }
        return try formatCustom(instant, chars)
    }

    /// Checks a pattern without formatting anything (for the definitions loader).
    public static func validate(_ pattern: String) throws(DotNetFormatError) {
        _ = try format(Instant.dotNetMin, pattern)
    }

    private static func formatCustom(_ instant: Instant, _ p: [Character]) throws(DotNetFormatError) -> String {
        let c = instant.components
        var out = ""
        var i = 0
        func runLength(_ ch: Character, from start: Int) -> Int {
            var n = 0
            while start + n < p.count && p[start + n] == ch { n += 1 }
            return n
        }
        func pad(_ value: Int, _ width: Int) -> String {
            let s = String(abs(value))
            return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
        }
        while i < p.count {
            let ch = p[i]
            var n = runLength(ch, from: i)
            switch ch {
            case "d":
                switch n {
                case 1: out += String(c.day)
                case 2: out += pad(c.day, 2)
                case 3: out += String(dayNames[c.weekday].prefix(3))
                default: out += dayNames[c.weekday]
                }
            case "M":
                switch n {
                case 1: out += String(c.month)
                case 2: out += pad(c.month, 2)
                case 3: out += String(monthNames[c.month - 1].prefix(3))
                default: out += monthNames[c.month - 1]
                }
            case "y":
                switch n {
                case 1: out += String(c.year % 100)
                case 2: out += pad(c.year % 100, 2)
                default: out += pad(c.year, n)
                }
            case "h":
                let hour12 = c.hour % 12 == 0 ? 12 : c.hour % 12
                out += n == 1 ? String(hour12) : pad(hour12, 2)
            case "H": out += n == 1 ? String(c.hour) : pad(c.hour, 2)
            case "m": out += n == 1 ? String(c.minute) : pad(c.minute, 2)
            case "s": out += n == 1 ? String(c.second) : pad(c.second, 2)
            case "f", "F":
                guard n <= 7 else {
                    throw DotNetFormatError(offset: i, message: "'\(String(repeating: ch, count: n))' asks for more than 7 fraction digits")
                }
                if ch == "f" {
                    out += String(repeating: "0", count: n)
                } else if out.last == "." {
                    // .NET drops a '.' directly before an 'F' run that prints nothing.
                    out.removeLast()
                }
            case "t":
                let designator = c.hour < 12 ? "AM" : "PM"
                out += n == 1 ? String(designator.prefix(1)) : designator
            case "g": out += "A.D."
            case "K":
                n = 1
                out += "Z"
            case "z":
                switch n {
                case 1: out += "+0"
                case 2: out += "+00"
                default: out += "+00:00"
                }
            case ":", "/":
                n = 1
                out.append(ch)
            case "'", "\"":
                // Quoted literal; a backslash inside escapes the next character.
                var j = i + 1
                var closed = false
                while j < p.count {
                    if p[j] == ch { closed = true; break }
                    if p[j] == "\\" {
                        j += 1
                        guard j < p.count else { break }
                    }
                    out.append(p[j])
                    j += 1
                }
                guard closed else {
                    throw DotNetFormatError(offset: i, message: "the quoted literal starting with \(ch) is not closed")
                }
                n = j - i + 1
            case "\\":
                guard i + 1 < p.count else {
                    throw DotNetFormatError(offset: i, message: "the format ends with a lone backslash")
                }
                out.append(p[i + 1])
                n = 2
            case "%":
                guard i + 1 < p.count, p[i + 1] != "%" else {
                    throw DotNetFormatError(offset: i, message: "'%' must be followed by one format specifier")
                }
                // "%x" formats the single specifier x; the rest of the pattern carries on after it.
                out += try formatCustom(instant, [p[i + 1]])
                n = 2
            default:
                n = 1
                out.append(ch)
            }
            i += n
        }
        return out
    }
}

/// A .NET date/time format string that cannot be used.
public struct DotNetFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 0-based position in the pattern, in characters.
    public var offset: Int
    public var message: String
    public init(offset: Int, message: String) { self.offset = offset; self.message = message }
    public var description: String { message }
}
