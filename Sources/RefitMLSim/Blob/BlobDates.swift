import Foundation

/// Date formats the Blob service speaks: RFC 1123 in headers and listings, ISO 8601 in SAS tokens.
/// Written by hand (no DateFormatter) so formatting is identical on every platform and thread-safe.
public enum BlobDates {
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Mon, 02 Jan 2006 15:04:05 GMT`, the form of `Date`, `Last-Modified` and `x-ms-date`.
    public static func rfc1123(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = floorDivMod(seconds, 86_400)
        let (y, m, d) = civil(fromDays: days)
        let weekday = weekdays[Int(floorDivMod(days, 7).1)]
        return "\(weekday), \(pad2(d)) \(months[m - 1]) \(y) \(pad2(Int(secondOfDay / 3600))):"
            + "\(pad2(Int(secondOfDay % 3600 / 60))):\(pad2(Int(secondOfDay % 60))) GMT"
    }

    /// `2006-01-02T15:04:05Z`, the form SAS tokens carry in `st` and `se`.
    public static func iso8601(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = floorDivMod(seconds, 86_400)
        let (y, m, d) = civil(fromDays: days)
        return "\(y)-\(pad2(m))-\(pad2(d))T\(pad2(Int(secondOfDay / 3600))):"
            + "\(pad2(Int(secondOfDay % 3600 / 60))):\(pad2(Int(secondOfDay % 60)))Z"
    }

    /// Parses an RFC 1123 date (`Mon, 02 Jan 2006 15:04:05 GMT`); nil when it is anything else.
    public static func parseRFC1123(_ text: String) -> Date? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT" || parts[5] == "UTC",
              let day = Int(parts[1]), let monthIndex = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let h = Int(clock[0]), let mi = Int(clock[1]), let s = Int(clock[2]) else { return nil }
        return makeDate(year: year, month: monthIndex + 1, day: day, hour: h, minute: mi, second: s, fraction: 0)
    }

    /// Parses the ISO 8601 UTC forms Azure accepts in SAS fields: `YYYY-MM-DD`, `YYYY-MM-DDThh:mmZ`,
    /// `YYYY-MM-DDThh:mm:ssZ` and `YYYY-MM-DDThh:mm:ss.fffffffZ`; nil otherwise.
    public static func parseISO8601(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= chars.count else { return nil }
            var value = 0
            for c in chars[from..<(from + count)] {
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard chars.count >= 10, let y = number(0, 4), chars[4] == UInt8(ascii: "-"), let m = number(5, 2),
              chars[7] == UInt8(ascii: "-"), let d = number(8, 2) else { return nil }
        if chars.count == 10 {
            return makeDate(year: y, month: m, day: d, hour: 0, minute: 0, second: 0, fraction: 0)
        }
        guard chars.count >= 17, chars[10] == UInt8(ascii: "T"), let h = number(11, 2),
              chars[13] == UInt8(ascii: ":"), let mi = number(14, 2), chars.last == UInt8(ascii: "Z") else { return nil }
        if chars.count == 17 {
            return makeDate(year: y, month: m, day: d, hour: h, minute: mi, second: 0, fraction: 0)
        }
        guard chars.count >= 20, chars[16] == UInt8(ascii: ":"), let s = number(17, 2) else { return nil }
        if chars.count == 20 {
            return makeDate(year: y, month: m, day: d, hour: h, minute: mi, second: s, fraction: 0)
        }
        let fractionDigits = chars.count - 22
        guard chars[19] == UInt8(ascii: "."), fractionDigits >= 1, fractionDigits <= 9,
              let f = number(20, fractionDigits) else { return nil }
        return makeDate(year: y, month: m, day: d, hour: h, minute: mi, second: s,
                        fraction: Double(f) / pow(10, Double(fractionDigits)))
    }

    private static func makeDate(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int,
                                 fraction: Double) -> Date? {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
              (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let days = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        // Reject dates like 31 February, which would silently roll into March.
        guard civil(fromDays: days) == (year, month, day) else { return nil }
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a >= 0 ? a / b : (a - b + 1) / b
        return (q, a - q * b)
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }
}
