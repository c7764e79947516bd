import Foundation

/// One SQLite value, used both to bind parameters and to read columns. Literals work directly:
/// `["pipeline-a", 3, 1.5, nil]` is a `[SQLiteValue]`.
public enum SQLiteValue: Sendable, Hashable {
    /// INTEGER (also booleans, stored as 0/1).
    case integer(Int64)
    /// REAL.
    case real(Double)
    /// TEXT, UTF-8 (times are text too, see `StoreTimestamp`).
    case text(String)
    /// BLOB.
    case blob(Data)
    /// SQL NULL.
    case null

    /// An optional string; `nil` binds SQL NULL.
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    /// An optional integer; `nil` binds SQL NULL.
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    /// An optional 64-bit integer; `nil` binds SQL NULL.
    public init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    /// An optional double; `nil` binds SQL NULL.
    public init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
    /// Optional bytes; `nil` binds SQL NULL.
    public init(_ value: Data?) { self = value.map { .blob($0) } ?? .null }
    /// A boolean as SQLite stores it (0 or 1).
    public init(_ value: Bool) { self = .integer(value ? 1 : 0) }

    public var isNull: Bool { self == .null }

    /// The integer, or nil when the value is not an integer.
    public var int64Value: Int64? {
        if case .integer(let v) = self { return v }
        return nil
    }

    /// The integer as `Int`, or nil when the value is not an integer.
    public var intValue: Int? { int64Value.map { Int($0) } }

    /// The number as a double (integers convert), or nil.
    public var doubleValue: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }

    /// The text, or nil when the value is not text.
    public var stringValue: String? {
        if case .text(let v) = self { return v }
        return nil
    }

    /// The bytes of a blob (or of text as UTF-8), or nil.
    public var dataValue: Data? {
        switch self {
        case .blob(let v): return v
        case .text(let v): return Data(v.utf8)
        default: return nil
        }
    }
}

extension SQLiteValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByNilLiteral, ExpressibleByBooleanLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .integer(value ? 1 : 0) }
}
