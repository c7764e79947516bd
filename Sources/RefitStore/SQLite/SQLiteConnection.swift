import CSQLite
import Foundation

/// One open SQLite connection. Not `Sendable`: reach it through `SQLiteDatabase`, whose serial
/// queue makes sure only one thread uses it at a time, and do not keep it beyond that closure.
/// Connections open with `SQLITE_OPEN_NOMUTEX` for that reason: SQLite's own per-connection mutex,
/// taken on every call into the library, would only guard what the queue already does.
public final class SQLiteConnection {
    let handle: OpaquePointer
    /// The path given when opening (":memory:" for an in-memory database).
    public let path: String
    /// How long a statement waits for another connection's lock (SQLite's busy timeout).
    let busyTimeoutMilliseconds: Int
    private var savepointDepth = 0
    /// Compiled statements of `execute`/`query`, by SQL text, ready to run again: the worker runs
    /// the same few dozen statements for every window, and compiling them was a fifth of its CPU.
    /// Several handles per text, because a statement may run while another with the same text is
    /// still being read. Bounded: when full, the statements of one text are finalized to make room.
    private var statementCache: [StatementKey: [OpaquePointer]] = [:]
    private(set) var cachedStatements = 0
    static let statementCacheLimit = 256
    /// The page cache of a connection that writes, in KiB (SQLite's default is 2,000). The worker's
    /// working set is the right-hand edge of a few B-trees plus their upper levels, a few hundred KiB;
    /// a larger cache only held older pages the operating system caches anyway (decision record 33).
    static let pageCacheKiB = 512

    /// Opens (creating if needed) the database and applies Refit's connection settings.
    /// `readOnly` opens an existing file for reading only and changes nothing, not even the
    /// journal mode (see `openReadOnly`).
    init(path: String, busyTimeoutMilliseconds: Int, readOnly: Bool = false) throws {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        let isMemory = path == ":memory:" || path.isEmpty
        if !isMemory {
            try Self.checkLocation(path)
        }
        _ = Self.processConfigured
        if readOnly {
            handle = try Self.openReadOnly(path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            return
        }
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &db, flags, nil)
        guard result == SQLITE_OK, let db else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(result))
            if let db { sqlite3_close_v2(db) }
            throw StoreError(.cannotOpen, "Cannot open the database '\(path)': \(StoreError.sentence(reason))",
                             sqliteCode: result)
        }
        self.handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeoutMilliseconds))
        do {
            // journal_mode is the first statement that reads the file, so a file that is not a
            // database fails here with SQLITE_NOTADB. Switching a new file to WAL needs an
            // exclusive lock, and SQLite answers SQLITE_BUSY here without calling the busy
            // handler while another process creates or recovers the same file (two workers
            // starting at once on a new database): retry within the busy timeout.
            let deadline = ContinuousClock.now + .milliseconds(busyTimeoutMilliseconds)
            while true {
                do {
                    _ = try query("PRAGMA journal_mode=WAL")
                    break
                } catch let error as StoreError where error.code == .busy && ContinuousClock.now < deadline {
                    usleep(20_000)
                }
            }
            try execute("PRAGMA foreign_keys=ON")
            try execute("PRAGMA synchronous=NORMAL")
            if !isMemory {
                try execute("PRAGMA cache_size=-\(Self.pageCacheKiB)")
            }
        } catch let error as StoreError {
            let reason: String
            if let code = error.sqliteCode, code & 0xff == SQLITE_NOTADB {
                reason = "'\(path)' is not a SQLite database."
            } else {
                reason = "Cannot open the database '\(path)': \(error.message)"
            }
            throw StoreError(error.code == .other ? .cannotOpen : error.code, reason, sqliteCode: error.sqliteCode)
        }
    }

    /// SQLite's process-wide settings (`refit_sqlite3_configure_process`), once, before the first open.
    /// Whether they took (false when SQLite was initialized before).
    static let processConfigured: Bool = refit_sqlite3_configure_process() == SQLITE_OK

    private var closed = false

    deinit {
        if !closed {
            finalizeCachedStatements()
            sqlite3_close_v2(handle)
        }
    }

    /// Closes the connection (the last one out checkpoints the WAL into the database file and
    /// removes it, so a copy of the file alone is complete). Later calls fail with one sentence.
    func close() {
        guard !closed else { return }
        finalizeCachedStatements()
        closed = true
        sqlite3_close_v2(handle)
    }

    /// Gives a precise reason for paths SQLite would only call "unable to open database file".
    /// With `stat` (following links, as SQLite does): Foundation's `URL` and `FileManager` cost a
    /// few tenths of a millisecond on their first use, at every worker's start.
    private static func checkLocation(_ path: String) throws {
        func isFolder(_ path: String) -> Bool {
            var info = stat()
            return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }
        if isFolder(path) {
            throw StoreError(.cannotOpen, "Cannot open the database '\(path)': it is a folder, not a file.")
        }
        var name = Substring(path)
        while name.count > 1, name.hasSuffix("/") { name = name.dropLast() }
        let folder = name.lastIndex(of: "/").map { $0 == name.startIndex ? "/" : String(name[..<$0]) } ?? "."
        if !isFolder(folder) {
            let shown = URL(fileURLWithPath: path).deletingLastPathComponent().path
            throw StoreError(.cannotOpen, "Cannot open the database '\(path)': the folder '\(shown)' does not exist.")
        }
    }

    /// An error for a failed SQLite call on this connection, with SQLite's message.
    func error(_ result: Int32, context: String) -> StoreError {
        StoreError.sqlite(resultCode(result), String(cString: sqlite3_errmsg(handle)), context: context)
    }

    /// The extended code of a failed call (SQLITE_IOERR_WRITE, not just SQLITE_IOERR, so a
    /// failed write — a file size limit, a quota — can be told apart).
    private func resultCode(_ result: Int32) -> Int32 {
        let extended = sqlite3_extended_errcode(handle)
        return (extended & 0xff) == (result & 0xff) ? extended : result
    }

    /// Compiles one SQL statement.
    public func prepare(_ sql: String) throws -> Statement {
        guard !closed else { throw StoreError(.other, "The database '\(path)' was already closed.") }
        return try checkedForReading(Statement(connection: self, sql: sql))
    }

    /// Set while a read (`SQLiteDatabase.read`) has the connection: statements that would write
    /// are refused, and so is a transaction, because a read may run on a thread of the
    /// cooperative pool, where waiting for another process's write lock must not happen.
    var readsOnly = false

    private func checkedForReading(_ statement: Statement) throws -> Statement {
        if readsOnly, sqlite3_stmt_readonly(statement.handle) == 0 {
            throw StoreError(.other, "A statement that writes ran inside a read of the database '\(path)'; use write or run.")
        }
        return statement
    }

    /// A compiled statement for `sql` from the cache (compiled on a miss). Released, it is reset,
    /// its bindings cleared, and it goes back to the cache.
    func cachedStatement(_ sql: String) throws -> Statement {
        guard !closed else { throw StoreError(.other, "The database '\(path)' was already closed.") }
        // One lookup, in place: an emptied entry stays (its text is likely to come back), rather
        // than hashing the text again to remove it and once more to add it back.
        let key = StatementKey(sql)
        if let handle = statementCache[key]?.popLast() {
            cachedStatements -= 1
            return try checkedForReading(Statement(connection: self, handle: handle, cacheKey: key))
        }
        return try checkedForReading(Statement(connection: self, sql: sql, cacheKey: key))
    }

    /// Takes a released statement back into the cache; `false` when it should be finalized
    /// instead (the connection is closed).
    func recycle(_ statement: OpaquePointer, key: StatementKey) -> Bool {
        guard !closed else { return false }
        while cachedStatements >= Self.statementCacheLimit, let victim = statementCache.first {
            // Full (statements whose text varies, such as IN lists): make room by dropping one text
            // (and any emptied entries met on the way).
            victim.value.forEach { sqlite3_finalize($0) }
            cachedStatements -= victim.value.count
            statementCache.removeValue(forKey: victim.key)
        }
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        statementCache[key, default: []].append(statement)
        cachedStatements += 1
        return true
    }

    private func finalizeCachedStatements() {
        for handles in statementCache.values {
            for statement in handles { sqlite3_finalize(statement) }
        }
        statementCache = [:]
        cachedStatements = 0
    }

    /// Runs one statement with positional bindings; returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> Int {
        let statement = try cachedStatement(sql)
        try statement.bind(bindings)
        try statement.run()
        return changes
    }

    /// Runs one statement with named bindings (`:name`); returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, named bindings: [String: SQLiteValue]) throws -> Int {
        let statement = try cachedStatement(sql)
        try statement.bind(named: bindings)
        try statement.run()
        return changes
    }

    /// Runs one query with positional bindings and returns all rows.
    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> [Row] {
        let statement = try cachedStatement(sql)
        try statement.bind(bindings)
        return try statement.rows()
    }

    /// Runs one query with positional bindings and decodes each row in place with `decode`,
    /// which reads the statement's columns by index (rows it returns nil for are left out).
    func query<T>(_ sql: String, _ bindings: [SQLiteValue] = [], decode: (Statement) -> T?) throws -> [T] {
        let statement = try cachedStatement(sql)
        try statement.bind(bindings)
        var decoded: [T] = []
        while try statement.step() {
            if let value = decode(statement) { decoded.append(value) }
        }
        return decoded
    }

    /// Runs one query with named bindings (`:name`) and returns all rows.
    public func query(_ sql: String, named bindings: [String: SQLiteValue]) throws -> [Row] {
        let statement = try cachedStatement(sql)
        try statement.bind(named: bindings)
        return try statement.rows()
    }

    /// Runs several semicolon-separated statements without bindings (migrations).
    public func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        if result != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? ""
            sqlite3_free(message)
            throw StoreError.sqlite(resultCode(result), text, context: "running an SQL script")
        }
    }

    /// The rowid of the most recent successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE on this connection.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Whether a transaction is open on this connection.
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` atomically. At the top level this is `BEGIN IMMEDIATE` (takes the write lock
    /// up front, so a read-then-write cannot fail half way with SQLITE_BUSY) and COMMIT, or
    /// ROLLBACK when `body` throws. Nested calls become savepoints.
    @discardableResult
    public func transaction<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        if readsOnly {
            throw StoreError(.other, "A transaction was begun inside a read of the database '\(path)'; use write or run.")
        }
        if isInTransaction {
            savepointDepth += 1
            defer { savepointDepth -= 1 }
            let name = "refit_savepoint_\(savepointDepth)"
            try execute("SAVEPOINT \(name)")
            do {
                let value = try body(self)
                try execute("RELEASE \(name)")
                return value
            } catch {
                if isInTransaction {
                    _ = try? execute("ROLLBACK TO \(name)")
                    _ = try? execute("RELEASE \(name)")
                }
                throw error
            }
        }
        try execute("BEGIN IMMEDIATE")
        return try committing(body)
    }

    /// `transaction` when the write lock is free now: `BEGIN IMMEDIATE` without waiting for
    /// another connection (busy timeout 0 for that statement only). Returns nil, having run
    /// nothing, when another connection holds the lock (or a transaction is already open); the
    /// caller then waits its turn the usual way. Once begun, a transaction in WAL mode waits for
    /// no other lock until it commits.
    func transactionIfUnlocked<T>(_ body: (SQLiteConnection) throws -> T) throws -> T? {
        guard !isInTransaction, !readsOnly else { return nil }
        do {
            sqlite3_busy_timeout(handle, 0)
            defer { sqlite3_busy_timeout(handle, Int32(clamping: busyTimeoutMilliseconds)) }
            try execute("BEGIN IMMEDIATE")
        } catch let error as StoreError where error.code == .busy {
            return nil
        }
        return try committing(body)
    }

    /// Runs `body` in the transaction just begun: COMMIT when it returns, ROLLBACK when it throws.
    private func committing<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            if isInTransaction { _ = try? execute("ROLLBACK") }
            throw error
        }
    }
}
