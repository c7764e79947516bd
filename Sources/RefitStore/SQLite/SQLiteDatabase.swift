import Foundation

/// A thread-safe SQLite database: one connection guarded by a lock, so any task may share it.
/// Opening sets WAL (readers never block the writer), `busy_timeout` (a second process waits
/// for the write lock instead of failing), `foreign_keys=ON` and `synchronous=NORMAL`.
/// Calls block the calling thread while they wait for the lock; keep transactions short.
public final class SQLiteDatabase: @unchecked Sendable {
    /// How long a write waits for another connection's lock before failing with `.busy`.
    public static let defaultBusyTimeoutMilliseconds = 5000

    /// The path given when opening.
    public let path: String
    // Every use of `connection` happens with `lock` held; that is what makes the
    // `@unchecked Sendable` sound. Recursive so nested calls on one thread do not deadlock.
    private let lock = NSRecursiveLock()
    private let connection: SQLiteConnection

    /// Opens or creates the database at `path` (":memory:" for a private in-memory one).
    /// `readOnly` opens an existing file without ever writing it (see `SQLiteConnection`).
    public init(path: String, busyTimeoutMilliseconds: Int = SQLiteDatabase.defaultBusyTimeoutMilliseconds,
                readOnly: Bool = false) throws {
        self.path = path
        self.connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, readOnly: readOnly)
    }

    /// Runs `body` with exclusive use of the connection. Do not let the connection escape.
    public func withConnection<T>(_ body: (SQLiteConnection) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(connection)
    }

    /// Runs one statement; returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> Int {
        try withConnection { try $0.execute(sql, bindings) }
    }

    /// Runs one statement with named bindings; returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, named bindings: [String: SQLiteValue]) throws -> Int {
        try withConnection { try $0.execute(sql, named: bindings) }
    }

    /// Runs one query and returns all rows.
    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> [Row] {
        try withConnection { try $0.query(sql, bindings) }
    }

    /// Runs one query with named bindings and returns all rows.
    public func query(_ sql: String, named bindings: [String: SQLiteValue]) throws -> [Row] {
        try withConnection { try $0.query(sql, named: bindings) }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back
    /// when it throws. Use the connection passed in for every statement of the transaction.
    @discardableResult
    public func transaction<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try withConnection { try $0.transaction(body) }
    }
}
