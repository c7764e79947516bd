import RefitCore

/// One result row in libpq's text format, detached from its result so it can cross threads.
/// The session's time zone is UTC (set on every connect), so timestamps read
/// `2026-01-01 00:00:00+00`.
public struct PostgresRow: Sendable, Hashable {
    public let columns: [String]
    /// Values in select order, nil for NULL.
    public let values: [String?]

    public init(columns: [String], values: [String?]) {
        self.columns = columns
        self.values = values
    }

    /// The text of the first column with this name; nil when it is missing or NULL.
    public func string(_ column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return values[index]
    }

    /// The column as an integer (int2/4/8, or a numeric without decimals such as `sum()`'s).
    public func int64(_ column: String) -> Int64? {
        guard let text = string(column) else { return nil }
        if let value = Int64(text) { return value }
        if text.hasSuffix(".0"), let value = Int64(text.dropLast(2)) { return value }
        return nil
    }

    public func int(_ column: String) -> Int? { int64(column).map { Int($0) } }

    /// The column as an instant: a timestamptz in UTC (fractions of a second dropped).
    public func instant(_ column: String) -> Instant? {
        guard let text = string(column) else { return nil }
        return Self.instant(text)
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]+00` (or the ISO `T`/`Z` form).
    static func instant(_ text: String) -> Instant? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                let b = bytes[i]
                guard b >= 48, b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        // Anything after the seconds must be a fraction and the UTC offset.
        let rest = String(decoding: bytes[19...], as: UTF8.self)
        let zone = rest.drop { $0 == "." || $0.isNumber }
        guard zone == "+00" || zone == "Z" || zone.isEmpty else { return nil }
        return Instant(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }
}
