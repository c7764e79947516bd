import Dispatch
import Foundation
import Synchronization

/// A SQLite database behind one serial executor (GRDB's model): a private dispatch queue owns
/// the connection, and calls that may wait run on it in turn. Async callers (`run`) suspend
/// instead of blocking the cooperative thread pool while another process holds the write lock;
/// the synchronous calls (`withConnection`, `transaction`, ...) block only their own thread. A
/// call made from inside another call on the same database is refused (`StoreError.reentrant`)
/// rather than deadlocking: use the connection you were given.
///
/// Two kinds of async call skip the queue when they cannot wait: a `write` whose `BEGIN
/// IMMEDIATE` gets the write lock at once, and a `read`, which in WAL mode never waits for a
/// writer. Either runs on the caller's own thread when nobody else is using the connection
/// (decision record 39): a hop to the queue and back was two thread wake-ups, a dozen per
/// slice of a chain. Otherwise they queue like `run`.
///
/// Opening sets WAL (readers never block the writer), `busy_timeout` (a second process waits
/// for the write lock instead of failing), `foreign_keys=ON` and `synchronous=NORMAL`; the log
/// is checkpointed on a thread of its own (`WALCheckpointer`), not inside the executor's commits.
public final class SQLiteDatabase: @unchecked Sendable {
    /// How long a write waits for another connection's lock before failing with `.busy`.
    public static let defaultBusyTimeoutMilliseconds = 5000

    /// The path given when opening.
    public let path: String
    // `connection` is only touched while holding `exclusive`, by one thread at a time: that is
    // what makes the `@unchecked Sendable` sound.
    private let connection: SQLiteConnection
    private let queue: DispatchQueue
    /// Held by whoever uses `connection`: a job on `queue`, a synchronous caller, or an async
    /// caller running inline. A plain (sleeping) mutex, not `Synchronization.Mutex`: that one is
    /// a priority-inheritance futex on Linux, whose waiters spin in the kernel while the holder
    /// runs, and the holder runs a whole transaction (decision record 39).
    private let exclusive = NSLock()
    /// The thread holding `exclusive` (0: none), to refuse a call from inside a call.
    private let holder = Atomic<UInt>(0)
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
    }

    private static var currentThread: UInt {
        #if canImport(Darwin)
        UInt(bitPattern: pthread_self())
        #else
        UInt(pthread_self())
        #endif
    }

    private func refuseReentrancy() throws {
        if holder.load(ordering: .relaxed) == Self.currentThread {
            throw StoreError(.reentrant, "A database call was made from inside another call on the same database; use the connection passed in.")
        }
    }

    /// What a call that may not wait got: its result, or the connection (or the write lock) was
    /// taken and it must queue.
    private enum Attempt<T> {
        case done(T)
        case notNow
    }

    /// Runs `body` holding the connection, waiting for it if need be.
    private func holding<T>(_ body: () throws -> T) throws -> T {
        exclusive.lock()
        defer { exclusive.unlock() }
        return try asHolder(body)
    }

    /// Runs `body` holding the connection if nobody else has it now; `.notNow` otherwise.
    private func holdingIfFree<T>(_ body: () throws -> Attempt<T>) throws -> Attempt<T> {
        guard exclusive.try() else { return .notNow }
        defer { exclusive.unlock() }
        return try asHolder(body)
    }

    /// Runs `body` marked as the holder of `exclusive` (which the caller has locked), so that a
    /// call from inside it is refused.
    private func asHolder<T>(_ body: () throws -> T) rethrows -> T {
        holder.store(Self.currentThread, ordering: .relaxed)
        defer { holder.store(0, ordering: .relaxed) }
        return try body()
    }

    /// `attempt` on the caller's thread if the connection is free and it can run without
    /// waiting; `body` on the queue otherwise.
    private func nowOrQueued<T: Sendable>(_ attempt: (SQLiteConnection) throws -> Attempt<T>,
                                          else body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try refuseReentrancy()
        if case .done(let value) = try holdingIfFree({ try attempt(connection) }) { return value }
        return try await queued(body)
    }

    /// Runs `body` on the queue, suspending the caller until it is done.
    private func queued<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.holding { try body(self.connection) } })
            }
        }
    }

    /// Runs `body` on the database's executor with exclusive use of the connection, suspending
    /// the caller (not blocking its thread) until it is done. Do not let the connection escape.
    public func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try refuseReentrancy()
        return try await queued(body)
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction (see `run`). When the connection is free
    /// and no other connection holds the write lock, it runs at once on the caller's thread;
    /// otherwise it waits on the executor.
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await nowOrQueued({ c in
            guard let value = try c.transactionIfUnlocked(body) else { return .notNow }
            return .done(value)
        }, else: { try $0.transaction(body) })
    }

    /// Runs `body`, which only reads: a statement that writes, or a transaction, fails with a
    /// `StoreError` instead. In WAL mode a read does not wait for writers, so when the
    /// connection is free it runs at once on the caller's thread; otherwise on the executor.
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let reading: @Sendable (SQLiteConnection) throws -> T = { c in
            c.readsOnly = true
            defer { c.readsOnly = false }
            return try body(c)
        }
        return try await nowOrQueued({ .done(try reading($0)) }, else: reading)
    }

    /// Runs `body` with exclusive use of the connection, blocking the calling thread until the
    /// connection is free. Do not let the connection escape.
    public func withConnection<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try refuseReentrancy()
        return try holding { try body(connection) }
    }

    /// Closes the database once every call made so far has run (at the end of a command).
    public func close() {
        guard holder.load(ordering: .relaxed) != Self.currentThread else { return }
        // The checkpoint connection closes first, so the writer's close (the last connection)
        // checkpoints the whole log and removes it, as before.
        checkpointer?.close()
        queue.sync { try? holding { connection.close() } }
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
