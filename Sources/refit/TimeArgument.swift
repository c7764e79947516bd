import ArgumentParser
import Foundation
import RefitCore

/// The one parser for every time option (`--from`, `--to`, `--since`, `--window`): ISO 8601,
/// either a date alone (midnight UTC) or a date and time *with* a zone (`Z` or an offset).
/// A time without a zone is refused rather than read as UTC, since an operator in another
/// zone would otherwise act on the wrong windows. A malformed time is a usage error (exit 2).
enum TimeArgument {
    static func parse(_ text: String) throws -> Instant {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.count > 10, !hasZone(trimmed) {
            throw ValidationError("'\(text)' has no time zone; add Z for UTC (\(trimmed)Z) or an offset such as +02:00.")
        }
        guard let instant = Instant.parse(trimmed) else {
            throw ValidationError("'\(text)' is not a valid ISO 8601 time such as 2026-01-01 or 2026-01-01T06:00:00Z.")
        }
        return instant
    }

    /// Whether a date-and-time text ends with `Z` or a `±HH:MM` / `±HHMM` / `±HH` offset.
    static func hasZone(_ text: String) -> Bool {
        if text.hasSuffix("Z") || text.hasSuffix("z") { return true }
        guard let time = text.split(whereSeparator: { $0 == "T" || $0 == "t" || $0 == " " }).last else { return false }
        return time.contains("+") || time.contains("-")
    }
}
