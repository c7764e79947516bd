import Dispatch
import Foundation

/// A SQLite database behind one serial executor (GRDB's model): a private dispatch queue owns
/// the connection, and every call runs on it in turn. Async callers (`run`) suspend instead of
/// blocking the cooperative thread pool while another process holds the write lock; the
/// synchronous calls (`withConnection`, `transaction`, ...) block only their own thread. A call
/// made from inside another call on the same database is refused (`StoreError.reentrant`)
/// rather than deadlocking: use the connection you were given.
///
/// Opening sets WAL (readers never block the writer), `busy_timeout` (a second process waits
/// for the write lock instead of failing), `foreign_keys=ON` and `synchronous=NORMAL`; the log
/// is checkpointed on a thread of its own (`WALCheckpointer`), not inside the executor's commits.
public final class SQLiteDatabase: @unchecked Sendable {
    /// How long a write waits for another connection's lock before failing with `.busy`.
    public static let defaultBusyTimeoutMilliseconds = 5000

    /// The path given when opening.
    public let path: String
    // `connection` is only touched on `queue`, one job at a time: that is what makes the
    // `@unchecked Sendable` sound.
    private let connection: SQLiteConnection
    private let queue: DispatchQueue
    private let onQueue = DispatchSpecificKey<Bool>()
    /// Checkpoints the write-ahead log off the executor (nil for read-only and in-memory databases).
    let checkpointer: WALCheckpointer?

    /// Opens or creates the database at `path` (":memory:" for a private in-memory one).
    /// `readOnly` opens an existing file without ever writing it (see `SQLiteConnection`).
    public init(path: String, busyTimeoutMilliseconds: Int = SQLiteDatabase.defaultBusyTimeoutMilliseconds,
                readOnly: Bool = false) throws {
        self.path = path
        self.connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, readOnly: readOnly)
        if readOnly || path == ":memory:" || path.isEmpty {
            checkpointer = nil
        } else {
            let checkpointer = WALCheckpointer(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            connection.checkpointInBackground(with: checkpointer)
            self.checkpointer = checkpointer
        }
        self.queue = DispatchQueue(label: "refit.sqlite")
        queue.setSpecific(key: onQueue, value: true)
    }

    private func refuseReentrancy() throws {
        if DispatchQueue.getSpecific(key: onQueue) == true {
            throw StoreError(.reentrant, "A database call was made from inside another call on the same database; use the connection passed in.")
        }
    }

    /// Runs `body` on the database's executor with exclusive use of the connection, suspending
    /// the caller (not blocking its thread) until it is done. Do not let the connection escape.
    public func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try refuseReentrancy()
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(self.connection) })
            }
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction on the executor (see `run`).
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await run { try $0.transaction(body) }
    }

    /// Runs `body` with exclusive use of the connection, blocking the calling thread until the
    /// executor gets to it. Do not let the connection escape.
    public func withConnection<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try refuseReentrancy()
        return try queue.sync { try body(connection) }
    }

    /// Closes the database once every call made so far has run (at the end of a command).
    public func close() {
        guard DispatchQueue.getSpecific(key: onQueue) != true else { return }
        // The checkpoint connection closes first, so the writer's close (the last connection)
        // checkpoints the whole log and removes it, as before.
        checkpointer?.close()
        queue.sync { connection.close() }
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
