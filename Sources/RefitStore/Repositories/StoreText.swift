import Foundation
import RefitCore

/// Conversions between RefitCore values and the stored text forms.
enum StoreText {
    static func text(_ instant: Instant) -> SQLiteValue { .text(instant.iso8601) }
    static func text(_ instant: Instant?) -> SQLiteValue { instant.map { .text($0.iso8601) } ?? .null }
    static func instant(_ row: Row, _ column: String) -> Instant? { row.string(column).flatMap(Instant.parse) }

    /// A JSON object with sorted keys from simple values (strings, numbers, bools, nil → null).
    static func json(_ fields: [String: Any?]) -> String { JSONString.detail(fields) }

    /// A data fingerprint as stored (sorted-key JSON), and back.
    static func json(_ fingerprint: DataFingerprint?) -> SQLiteValue {
        fingerprint.map { .text($0.storedJSON) } ?? .null
    }

    static func fingerprint(_ text: String) -> DataFingerprint? { DataFingerprint(storedJSON: text) }
}
