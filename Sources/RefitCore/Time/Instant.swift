/// A point in time, in whole seconds since 1970-01-01T00:00:00Z, on the proleptic Gregorian
/// calendar in UTC.
///
/// Refit does its own calendar arithmetic instead of Foundation's `Calendar`: ADF's default
/// anchor is 0001-01-01 (a Monday in the proleptic Gregorian calendar, .NET's `DateTime.MinValue`),
/// and Foundation's Gregorian calendar switches to Julian before 1582, which would move it.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var secondsSinceEpoch: Int64

    public init(secondsSinceEpoch: Int64) { self.secondsSinceEpoch = secondsSinceEpoch }

    /// .NET `DateTime.MinValue`, ADF's default `anchorDateTime`.
    public static let dotNetMin = Instant(year: 1, month: 1, day: 1)
    /// ADF's "no end" marker for a pipeline's `end` (`9999-09-09`).
    public static let adfNoEnd = Instant(year: 9999, month: 9, day: 9)

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        let days = Instant.daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        secondsSinceEpoch = days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.secondsSinceEpoch < rhs.secondsSinceEpoch }

    public static func + (lhs: Instant, rhs: TimeSpan) -> Instant {
        Instant(secondsSinceEpoch: lhs.secondsSinceEpoch + rhs.seconds)
    }
    public static func - (lhs: Instant, rhs: TimeSpan) -> Instant {
        Instant(secondsSinceEpoch: lhs.secondsSinceEpoch - rhs.seconds)
    }
    public static func - (lhs: Instant, rhs: Instant) -> TimeSpan {
        TimeSpan(seconds: lhs.secondsSinceEpoch - rhs.secondsSinceEpoch)
    }

    // MARK: Civil fields

    /// Broken-down UTC fields of this instant.
    public struct Components: Hashable, Sendable {
        public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
        /// 0 = Sunday … 6 = Saturday, as .NET's `DayOfWeek`.
        public var weekday: Int
    }

    public var components: Components {
        let days = Instant.floorDiv(secondsSinceEpoch, 86_400)
        let secs = secondsSinceEpoch - days * 86_400
        let (y, m, d) = Instant.civilFromDays(days)
        // 1970-01-01 was a Thursday (4).
        let weekday = Int(Instant.floorMod(days + 4, 7))
        return Components(year: Int(y), month: Int(m), day: Int(d),
                          hour: Int(secs / 3600), minute: Int((secs % 3600) / 60), second: Int(secs % 60),
                          weekday: weekday)
    }

    /// Days since 1970-01-01 (negative before).
    public var dayNumber: Int64 { Instant.floorDiv(secondsSinceEpoch, 86_400) }

    /// Midnight UTC of this instant's day.
    public var startOfDay: Instant { Instant(secondsSinceEpoch: dayNumber * 86_400) }

    /// This instant moved by whole calendar months; the day is clamped to the target month's
    /// length (as .NET's `DateTime.AddMonths`), the time of day kept.
    public func addingMonths(_ months: Int64) -> Instant {
        let c = components
        let total = Int64(c.year) * 12 + Int64(c.month - 1) + months
        let year = Instant.floorDiv(total, 12)
        let month = Instant.floorMod(total, 12) + 1
        let day = min(Int64(c.day), Instant.daysInMonth(year: year, month: month))
        let days = Instant.daysFromCivil(year: year, month: month, day: day)
        let timeOfDay = secondsSinceEpoch - dayNumber * 86_400
        return Instant(secondsSinceEpoch: days * 86_400 + timeOfDay)
    }

    /// This instant's month as a count of months since year 0 (for month arithmetic).
    public func monthIndex() -> Int64 {
        let c = components
        return Int64(c.year) * 12 + Int64(c.month - 1)
    }

    public static func isLeapYear(_ year: Int64) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days (public domain), proleptic Gregorian.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }

    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
    }

    public static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    // MARK: ISO 8601

    /// `2026-01-01T00:00:00Z`: the only form Refit prints (docs/SEMANTICS.md D9).
    public var iso8601: String {
        let c = components
        // Fast path for years 0...9999 (every stored time): 20 ASCII bytes, no interpolation.
        if (0...9999).contains(c.year) {
            return String(unsafeUninitializedCapacity: 20) { buffer in
                func put(_ value: Int, _ width: Int, at offset: Int) {
                    var v = value
                    for i in stride(from: offset + width - 1, through: offset, by: -1) {
                        buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                        v /= 10
                    }
                }
                put(c.year, 4, at: 0); buffer[4] = UInt8(ascii: "-"); put(c.month, 2, at: 5); buffer[7] = UInt8(ascii: "-")
                put(c.day, 2, at: 8); buffer[10] = UInt8(ascii: "T"); put(c.hour, 2, at: 11); buffer[13] = UInt8(ascii: ":")
                put(c.minute, 2, at: 14); buffer[16] = UInt8(ascii: ":"); put(c.second, 2, at: 17); buffer[19] = UInt8(ascii: "Z")
                return 20
            }
        }
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(abs(v))
            return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))Z"
    }

    public var description: String { iso8601 }

    /// The HTTP date form (RFC 9110 IMF-fixdate, as RFC 1123): `Sun, 11 Oct 2009 21:49:13 GMT`,
    /// always in English and GMT; what storage services sign and `Date`/`Last-Modified` carry.
    public var httpDate: String {
        let c = components
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let year = String(c.year)
        return "\(days[c.weekday]), \(two(c.day)) \(months[c.month - 1]) "
            + "\(String(repeating: "0", count: max(0, 4 - year.count)))\(year) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) GMT"
    }


    /// Parses the date-time forms ADF accepts: `2016-02-03` (midnight UTC),
    /// `2016-02-03T04:05[:06[.fff]]` (UTC when no offset is given, as ADF's samples assume),
    /// with `Z` or `±hh:mm` / `±hhmm` offsets. A space may stand for `T`. Fractions are dropped.
    /// Returns nil for anything else or impossible dates (2023-02-29, 24:00).
    public static func parse(_ text: String) -> Instant? {
        if let canonical = parseCanonical(text) { return canonical }
        var s = Substring(text.trimmingCharacters())
        func number(_ count: Int) -> Int? {
            guard s.count >= count else { return nil }
            let digits = s.prefix(count)
            guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(digits) else { return nil }
            s = s.dropFirst(count)
            return v
        }
        func expect(_ ch: Character) -> Bool {
            guard s.first == ch else { return false }
            s = s.dropFirst()
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else { return nil }
        guard (1...12).contains(month), day >= 1, Int64(day) <= daysInMonth(year: Int64(year), month: Int64(month)) else { return nil }
        var hour = 0, minute = 0, second = 0, offsetSeconds: Int64 = 0
        if !s.isEmpty {
            guard expect("T") || expect("t") || expect(" ") else { return nil }
            guard let h = number(2), expect(":"), let mi = number(2) else { return nil }
            hour = h; minute = mi
            if expect(":") {
                guard let se = number(2) else { return nil }
                second = se
                if expect(".") || expect(",") {
                    let fraction = s.prefix(while: { $0.isASCII && $0.isNumber })
                    guard !fraction.isEmpty else { return nil }
                    s = s.dropFirst(fraction.count)
                }
            }
            guard hour < 24, minute < 60, second < 60 else { return nil }
            if expect("Z") || expect("z") {
            } else if let sign = s.first, sign == "+" || sign == "-" {
                s = s.dropFirst()
                guard let oh = number(2) else { return nil }
                _ = expect(":")
                guard let om = number(2), oh < 24, om < 60 else { return nil }
                offsetSeconds = Int64(oh * 3600 + om * 60) * (sign == "-" ? -1 : 1)
            }
        }
        guard s.isEmpty else { return nil }
        let local = Instant(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        return Instant(secondsSinceEpoch: local.secondsSinceEpoch - offsetSeconds)
    }

    /// The form Refit prints and stores, `YYYY-MM-DDTHH:MM:SSZ`, read byte by byte (the store
    /// reads several per row, so this is on every tick's path). nil for anything else, which
    /// `parse` then reads with its general rules (the results agree wherever both accept).
    static func parseCanonical(_ text: String) -> Instant? {
        var text = text
        return text.withUTF8(parseCanonical(utf8:))
    }

    /// `parseCanonical` over UTF-8 bytes (a database column read in place, without a `String`).
    package static func parseCanonical(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Instant? {
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z") else { return nil }
        func number(_ offset: Int, _ width: Int) -> Int? {
            var value = 0
            for i in offset..<(offset + width) {
                let digit = Int(bytes[i]) - Int(UInt8(ascii: "0"))
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), day >= 1, Int64(day) <= daysInMonth(year: Int64(year), month: Int64(month)),
              hour < 24, minute < 60, second < 60 else { return nil }
        return Instant(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// `parse` over UTF-8 bytes: the canonical form read in place, anything else as a `String`.
    package static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Instant? {
        parseCanonical(utf8: bytes) ?? parse(String(decoding: bytes, as: UTF8.self))
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace (Foundation-free, for the core's parsers).
    package func trimmingCharacters() -> String {
        // Most text has nothing to trim, and a scalar is far cheaper to look at than a Character.
        // A Character is whitespace when its first scalar is, so an ASCII first scalar that is not
        // whitespace means nothing leads. An ASCII last scalar that is not whitespace ends a
        // Character that starts with itself or with a "prepend" scalar (never whitespace), so
        // nothing trails either.
        func isASCIIPrintable(_ scalar: Unicode.Scalar?) -> Bool {
            guard let value = scalar?.value else { return false }
            return value > 0x20 && value < 0x7F
        }
        if isASCIIPrintable(unicodeScalars.first), isASCIIPrintable(unicodeScalars.last) { return String(self) }
        return trimming(while: \.isWhitespace)
    }

    /// Without the leading and trailing characters `isTrimmed` accepts. Foundation's
    /// `trimmingCharacters(in:)` goes through `NSString` and builds a `CharacterSet` per call,
    /// which shows in the activities' per-slice work.
    package func trimming(while isTrimmed: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !isTrimmed($0) }), let last = lastIndex(where: { !isTrimmed($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension String {
    /// Without the leading and trailing copies of `byte`, an ASCII character: `trimming(while:)`
    /// for one ASCII character, cut as UTF-8 bytes (an ASCII byte never occurs inside a
    /// multi-byte character), without reading `Character`s. A dataset path per window uses it.
    package func trimming(byte: UInt8) -> String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { $0 != byte }), let last = bytes.lastIndex(where: { $0 != byte }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
