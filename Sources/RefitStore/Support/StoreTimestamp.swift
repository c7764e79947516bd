import Foundation

/// The one time format the database stores: ISO 8601 UTC with whole seconds and a `Z`
/// (`2024-01-31T23:00:00Z`). A single fixed-width format makes text order equal time order,
/// which lease and due-time comparisons in SQL rely on.
public enum StoreTimestamp {
    /// Formats a date (fractional seconds are dropped).
    public static func string(from date: Date) -> String {
        let seconds = (date.timeIntervalSince1970).rounded(.down)
        return Date(timeIntervalSince1970: seconds).formatted(style)
    }

    /// Parses the stored format; nil for anything else.
    public static func date(from string: String) -> Date? {
        guard string.utf8.count == 20, string.hasSuffix("Z") else { return nil }
        return try? Date(string, strategy: style)
    }

    private static let style = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC") ?? .gmt)
}
