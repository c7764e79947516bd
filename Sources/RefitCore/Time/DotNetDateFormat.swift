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
        try Pattern(pattern).format(instant)
    }

    /// Checks a pattern without formatting anything (for the definitions loader).
    public static func validate(_ pattern: String) throws(DotNetFormatError) {
        _ = try Pattern(pattern)
    }

    /// A format string read once: what formats many instants (a dataset path for every slice of
    /// a backlog) without reading the pattern again. Whether .NET accepts a pattern does not
    /// depend on the date, so every error is found here.
    public struct Pattern: Sendable {
        private enum Part: Sendable {
            case text(String)
            /// `d`/`dd`, `M`/`MM`, `H`/`HH`, `h`/`hh`, `m`/`mm`, `s`/`ss`: the number, at least `width` digits.
            case number(Field, width: Int)
            /// `y` and `yy`: the year of the century; `yyy…`: the year, at least that many digits.
            case yearOfCentury(width: Int)
            case year(width: Int)
            case dayName(short: Bool)
            case monthName(short: Bool)
            case designator(short: Bool)
            /// An `F` run, which prints nothing and drops a `.` printed just before it.
            case dropTrailingDot
        }

        private enum Field: Sendable { case day, month, hour24, hour12, minute, second }

        private let parts: [Part]

        public init(_ pattern: String) throws(DotNetFormatError) {
            let chars = Array(pattern)
            if chars.isEmpty {
                parts = try Pattern.compile(Array(standardFormats["G"] ?? ""))
            } else if chars.count == 1 {
                guard let expansion = standardFormats[chars[0]] else {
                    throw DotNetFormatError(offset: 0, message:
                        "format '\(pattern)' is a single character, which .NET reads as a standard format, and '\(pattern)' is not one; write '%\(pattern)' for the specifier on its own")
                }
                parts = try Pattern.compile(Array(expansion))
            } else {
                parts = try Pattern.compile(chars)
            }
        }

        public func format(_ instant: Instant) -> String {
            let c = instant.components
            var out = ""
            for part in parts {
                switch part {
                case .text(let text): out += text
                case .number(let field, let width):
                    let value: Int
                    switch field {
                    case .day: value = c.day
                    case .month: value = c.month
                    case .hour24: value = c.hour
                    case .hour12: value = c.hour % 12 == 0 ? 12 : c.hour % 12
                    case .minute: value = c.minute
                    case .second: value = c.second
                    }
                    Pattern.append(value, width: width, to: &out)
                case .yearOfCentury(let width): Pattern.append(c.year % 100, width: width, to: &out)
                case .year(let width): Pattern.append(c.year, width: width, to: &out)
                case .dayName(let short): out += short ? String(dayNames[c.weekday].prefix(3)) : dayNames[c.weekday]
                case .monthName(let short): out += short ? String(monthNames[c.month - 1].prefix(3)) : monthNames[c.month - 1]
                case .designator(let short): out += c.hour < 12 ? (short ? "A" : "AM") : (short ? "P" : "PM")
                case .dropTrailingDot:
                    // .NET drops a '.' directly before an 'F' run that prints nothing.
                    if out.last == "." { out.removeLast() }
                }
            }
            return out
        }

        /// `value` in decimal, zero-padded to `width` digits, with a leading '-' when negative.
        private static func append(_ value: Int, width: Int, to out: inout String) {
            if value < 0 { out += "-" }
            let digits = String(value.magnitude)
            if digits.utf8.count < width { out += String(repeating: "0", count: width - digits.utf8.count) }
            out += digits
        }

        private static func compile(_ p: [Character]) throws(DotNetFormatError) -> [Part] {
            var parts: [Part] = []
            var literal = ""
            func flush() {
                if !literal.isEmpty { parts.append(.text(literal)); literal = "" }
            }
            func add(_ part: Part) { flush(); parts.append(part) }
            func runLength(_ ch: Character, from start: Int) -> Int {
                var n = 0
                while start + n < p.count && p[start + n] == ch { n += 1 }
                return n
            }
            var i = 0
            while i < p.count {
                let ch = p[i]
                var n = runLength(ch, from: i)
                switch ch {
                case "d":
                    switch n {
                    case 1, 2: add(.number(.day, width: n))
                    case 3: add(.dayName(short: true))
                    default: add(.dayName(short: false))
                    }
                case "M":
                    switch n {
                    case 1, 2: add(.number(.month, width: n))
                    case 3: add(.monthName(short: true))
                    default: add(.monthName(short: false))
                    }
                case "y": add(n <= 2 ? .yearOfCentury(width: n) : .year(width: n))
                case "h": add(.number(.hour12, width: min(n, 2)))
                case "H": add(.number(.hour24, width: min(n, 2)))
                case "m": add(.number(.minute, width: min(n, 2)))
                case "s": add(.number(.second, width: min(n, 2)))
                case "f", "F":
                    guard n <= 7 else {
                        throw DotNetFormatError(offset: i, message: "'\(String(repeating: ch, count: n))' asks for more than 7 fraction digits")
                    }
                    // Refit's instants are whole seconds: 'f' prints zeros, 'F' nothing.
                    if ch == "f" { literal += String(repeating: "0", count: n) } else { add(.dropTrailingDot) }
                case "t": add(.designator(short: n == 1))
                case "g": literal += "A.D."
                case "K":
                    n = 1
                    literal += "Z"
                case "z":
                    switch n {
                    case 1: literal += "+0"
                    case 2: literal += "+00"
                    default: literal += "+00:00"
                    }
                case ":", "/":
                    n = 1
                    literal.append(ch)
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
                        literal.append(p[j])
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
                    literal.append(p[i + 1])
                    n = 2
                case "%":
                    guard i + 1 < p.count, p[i + 1] != "%" else {
                        throw DotNetFormatError(offset: i, message: "'%' must be followed by one format specifier")
                    }
                    // "%x" formats the single specifier x; the rest of the pattern carries on after it.
                    // The specifier is formatted on its own, so an 'F' there drops no '.' before it.
                    flush()
                    parts += try compile([p[i + 1]]).filter {
                        if case .dropTrailingDot = $0 { return false }
                        return true
                    }
                    n = 2
                default:
                    n = 1
                    literal.append(ch)
                }
                i += n
            }
            flush()
            return parts
        }
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
