import CSQLite
import Foundation

/// SQLite copies bound text and blobs when given this destructor (the C macro is not imported).
let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The SQL text of a cached statement, hashed once. The worker takes a statement from the cache
/// and gives it back about a hundred times per slice, and `String`'s own hash (SipHash over every
/// byte of texts of several hundred bytes) was 3% of its CPU. Here the text is folded eight bytes
/// at a time, once per use; equal keys still compare the whole text.
struct StatementKey: Hashable {
    let sql: String
    private let fold: Int

    init(_ sql: String) {
        self.sql = sql
        var text = sql
        fold = text.withUTF8 { bytes -> Int in
            let raw = UnsafeRawBufferPointer(bytes)
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(raw.count)
            var offset = 0
            while offset + 8 <= raw.count {
                h = (h ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x0000_0100_0000_01b3
                h ^= h >> 29
                offset += 8
            }
            while offset < raw.count {
                h = (h ^ UInt64(raw[offset])) &* 0x0000_0100_0000_01b3
                offset += 1
            }
            return Int(truncatingIfNeeded: h)
        }
    }

    static func == (a: StatementKey, b: StatementKey) -> Bool { a.fold == b.fold && a.sql == b.sql }
    func hash(into hasher: inout Hasher) { hasher.combine(fold) }
}

/// A prepared statement on one connection. Bind, step, read, reset; finalized when released.
/// Not `Sendable`: use it only inside the `SQLiteDatabase` closure that produced its connection.
public final class Statement {
    /// Keeps the connection open for as long as the statement lives.
    public let connection: SQLiteConnection
    let handle: OpaquePointer
    /// The SQL text under which the connection's statement cache keeps this statement when it is
    /// released (`nil`: finalized on release). See `SQLiteConnection.cachedStatement`.
    private let cacheKey: StatementKey?

    /// Wraps a compiled statement taken from the connection's cache.
    init(connection: SQLiteConnection, handle: OpaquePointer, cacheKey: StatementKey) {
        self.connection = connection
        self.handle = handle
        self.cacheKey = cacheKey
    }

    init(connection: SQLiteConnection, sql: String, cacheKey: StatementKey? = nil) throws {
        self.connection = connection
        self.cacheKey = cacheKey
        // `tail` points into the C string, so it is read inside the closure that keeps it alive.
        let (result, statement, extra): (Int32, OpaquePointer?, Bool) = sql.withCString { text in
            var statement: OpaquePointer?
            var tail: UnsafePointer<CChar>?
            let result = sqlite3_prepare_v2(connection.handle, text, -1, &statement, &tail)
            let extra = tail.map { !String(cString: $0).allSatisfy({ $0.isWhitespace || $0 == ";" }) } ?? false
            return (result, statement, extra)
        }
        guard result == SQLITE_OK, let statement else {
            if let statement { sqlite3_finalize(statement) }
            throw connection.error(result, context: "preparing a statement")
        }
        if extra {
            sqlite3_finalize(statement)
            throw StoreError(.other, "A statement must hold exactly one SQL command; use executeScript for several.")
        }
        self.handle = statement
    }

    deinit {
        if let cacheKey, connection.recycle(handle, key: cacheKey) { return }
        sqlite3_finalize(handle)
    }

    /// How many `?`/`:name` parameters the statement declares.
    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// Binds positional parameters (1...n) in order; the count must match exactly.
    public func bind(_ values: [SQLiteValue]) throws {
        guard values.count == parameterCount else {
            throw StoreError(.other, "The statement expects \(parameterCount) parameter(s) but \(values.count) were given.")
        }
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    /// Binds named parameters; keys may be written with or without their `:`, `@` or `$` prefix.
    public func bind(named values: [String: SQLiteValue]) throws {
        for (name, value) in values {
            let candidates = name.first.map { ":@$".contains($0) } == true ? [name] : [":" + name, "@" + name, "$" + name]
            guard let index = candidates.lazy.map({ sqlite3_bind_parameter_index(self.handle, $0) }).first(where: { $0 > 0 })
            else {
                throw StoreError(.other, "The statement has no parameter named '\(name)'.")
            }
            try bind(value, at: index)
        }
    }

    /// Binds one value at a 1-based parameter index.
    public func bind(_ value: SQLiteValue, at index: Int32) throws {
        let result: Int32
        switch value {
        case .integer(let v): result = sqlite3_bind_int64(handle, index, v)
        case .real(let v): result = sqlite3_bind_double(handle, index, v)
        case .text(let v):
            // Explicit byte length: text may contain NUL, and "" must bind as text, not NULL.
            var text = v
            result = text.withUTF8 { bytes in
                guard let base = bytes.baseAddress, !bytes.isEmpty else {
                    return sqlite3_bind_text(handle, index, "", 0, SQLITE_TRANSIENT)
                }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text64(handle, index, $0, UInt64(bytes.count), SQLITE_TRANSIENT, UInt8(SQLITE_UTF8))
                }
            }
        case .blob(let v):
            if v.isEmpty {
                result = sqlite3_bind_zeroblob(handle, index, 0)
            } else {
                result = v.withUnsafeBytes { raw in
                    sqlite3_bind_blob64(handle, index, raw.baseAddress, UInt64(raw.count), SQLITE_TRANSIENT)
                }
            }
        case .null: result = sqlite3_bind_null(handle, index)
        }
        guard result == SQLITE_OK else { throw connection.error(result, context: "binding parameter \(index)") }
    }

    /// Advances to the next row: `true` when a row is available, `false` when done.
    @discardableResult
    public func step() throws -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(result, context: "running a statement")
        }
    }

    /// Steps until done, for statements that return no rows.
    public func run() throws {
        while try step() {}
    }

    /// Resets the statement and clears its bindings so it can run again.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func columnName(_ index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? ""
    }

    /// The current row's value in a column (0-based).
    public func value(at index: Int) -> SQLiteValue {
        let column = Int32(index)
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard let bytes = sqlite3_column_text(handle, column) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return .blob(Data()) }
            return .blob(Data(bytes: bytes, count: count))
        default:
            return .null
        }
    }

    // Typed reads of the current row by column index (0-based), in place: for the hot queries
    // that decode many rows of a fixed column list, without a `Row` and its name lookups.
    // nil for NULL (and for a value of another storage class where noted).

    /// The column as a 64-bit integer; nil when NULL or not an integer.
    func int64(at index: Int32) -> Int64? {
        sqlite3_column_type(handle, index) == SQLITE_INTEGER ? sqlite3_column_int64(handle, index) : nil
    }

    /// The column as text; nil when NULL.
    func text(at index: Int32) -> String? {
        withText(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the column's UTF-8 bytes, valid only during the call; nil when NULL.
    func withText<T>(at index: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> T?) -> T? {
        guard sqlite3_column_type(handle, index) != SQLITE_NULL, let bytes = sqlite3_column_text(handle, index) else {
            return nil
        }
        return body(UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, index))))
    }

    /// The current row, copied out of SQLite.
    public func row() -> Row {
        let count = columnCount
        return Row(columns: (0..<count).map(columnName), values: (0..<count).map(value(at:)))
    }

    /// Steps to the end and returns every row.
    public func rows() throws -> [Row] {
        var rows: [Row] = []
        // Column names are the same for every row: read them once and share the array.
        var names: [String]?
        while try step() {
            let count = columnCount
            let columns = names ?? (0..<count).map(columnName)
            names = columns
            rows.append(Row(columns: columns, values: (0..<count).map(value(at:))))
        }
        return rows
    }
}
