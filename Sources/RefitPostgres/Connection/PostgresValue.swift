import RefitCore

/// One parameter of a PostgreSQL statement. Values always travel apart from the SQL text
/// (`PQexecParams`), typed, so nothing a user or a definition wrote is ever parsed as SQL.
public enum PostgresValue: Sendable, Hashable {
    /// int8.
    case integer(Int64)
    /// text.
    case text(String)
    /// timestamptz, sent as the store's ISO 8601 UTC form.
    case timestamp(Instant)
    /// SQL NULL (its type is inferred from where it is used; cast it in the SQL when it cannot be).
    case null

    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    public init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    public init(_ value: Instant?) { self = value.map { .timestamp($0) } ?? .null }
    /// A boolean as the schema stores it (0 or 1).
    public init(_ value: Bool) { self = .integer(value ? 1 : 0) }

    /// The type OID libpq is told (0: let the server infer it).
    var typeOID: UInt32 {
        switch self {
        case .integer: 20
        case .text: 25
        case .timestamp: 1184
        case .null: 0
        }
    }

    /// The text form sent to the server, or nil for NULL.
    var wireText: String? {
        switch self {
        case .integer(let v): String(v)
        case .text(let v): v
        case .timestamp(let v): v.iso8601
        case .null: nil
        }
    }
}
