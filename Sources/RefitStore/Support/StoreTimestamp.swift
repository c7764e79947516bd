import Foundation
import RefitCore

/// The one time format the database stores: ISO 8601 UTC with whole seconds and a `Z`
/// (`2024-01-31T23:00:00Z`). A single fixed-width format makes text order equal time order,
/// which lease and due-time comparisons in SQL rely on.
public enum StoreTimestamp {
    /// Formats a date (fractional seconds are dropped). Written by `Instant`, which formats
    /// without Foundation's format styles: every journal step and audit event stores a time.
    public static func string(from date: Date) -> String {
        WallInstant(date).instant.iso8601
    }

    /// Parses the stored format; nil for anything else.
    public static func date(from string: String) -> Date? {
        guard string.utf8.count == 20, string.hasSuffix("Z") else { return nil }
        return try? Date(string, strategy: style)
    }

    private static let style = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC") ?? .gmt)
}
