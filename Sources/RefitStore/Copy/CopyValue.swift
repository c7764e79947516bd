import RefitCore

/// One value of a copied row, in a form both stores can write: SQLite keeps times as ISO 8601
/// text, PostgreSQL as `timestamptz`, so times travel as instants and each store writes its own
/// form. Audit-log times are plain text (the chain hashes that exact text) and travel as text.
public enum CopyValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case integer(Int64)
    case text(String)
    case time(Instant)

    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let value): String(value)
        case .text(let value): value
        case .time(let value): value.iso8601
        }
    }
}
