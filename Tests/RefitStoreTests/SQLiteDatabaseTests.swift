import CSQLite
import Foundation
@testable import RefitStore
import Synchronization
import Testing

struct SQLiteDatabaseTests {
    @Test func connectionSettingsAreActuallyOn() throws {
        let folder = try TemporaryDirectory()
        let store = try Store.open(path: folder.path("refit.sqlite"))
        let db = store.database
        #expect(try db.query("PRAGMA journal_mode").first?[0]?.stringValue == "wal")
        #expect(try db.query("PRAGMA foreign_keys").first?[0]?.intValue == 1)
        #expect(try db.query("PRAGMA busy_timeout").first?[0]?.intValue == 5000)
        #expect(try db.query("PRAGMA synchronous").first?[0]?.intValue == 1)  // NORMAL
        // A page cache of 512 KiB (negative: KiB, not pages), not SQLite's 2,000 KiB.
        #expect(try db.query("PRAGMA cache_size").first?[0]?.intValue == -512)
        // No per-connection mutex (the database's serial queue is the one lock), and no global
        // count of SQLite's memory (a mutex on every allocation inside SQLite).
        try db.withConnection { connection in
            #expect(sqlite3_db_mutex(connection.handle) == nil)
        }
        #expect(SQLiteConnection.processConfigured)
        #expect(sqlite3_memory_used() == 0)
    }

    @Test func statementKeysAreTheirText() {
        let base = "SELECT id, pipeline, activity, window_start FROM windows WHERE id = ? AND state = 'Waiting'"
        // Equal texts give equal keys, however the String holds them (native, bridged, built).
        let bridged = NSString(string: base) as String
        let built = "SELECT id, pipeline, activity, window_start FROM windows WHERE id = ? AND " + "state = 'Waiting'"
        for other in [bridged, built] {
            #expect(StatementKey(base) == StatementKey(other))
            #expect(StatementKey(base).hashValue == StatementKey(other).hashValue)
        }
        // A text that differs in any one byte, or only in length, is another key.
        var seen: Set<StatementKey> = [StatementKey(base)]
        for offset in 0..<base.utf8.count {
            var bytes = Array(base.utf8)
            bytes[offset] = bytes[offset] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
            let changed = StatementKey(String(decoding: bytes, as: UTF8.self))
            #expect(changed != StatementKey(base))
            seen.insert(changed)
        }
        #expect(seen.count == base.utf8.count + 1)
        #expect(StatementKey(base + " ") != StatementKey(base))
        #expect(StatementKey("") == StatementKey(""))
    }

    @Test func compiledStatementsAreReusedAndBounded() throws {
        let folder = try TemporaryDirectory()
        let store = try Store.open(path: folder.path("refit.sqlite"))
        try store.database.withConnection { c in
            try c.execute("CREATE TABLE t (n INTEGER)")
            let before = c.cachedStatements
            // The same text again and again: one compiled statement, taken and given back.
            for n in 0..<50 { _ = try c.execute("INSERT INTO t (n) VALUES (?)", [.integer(Int64(n))]) }
            #expect(c.cachedStatements <= before + 1)
            #expect(try c.query("SELECT count(*) FROM t").first?[0]?.intValue == 50)
            // More distinct texts than the cache holds: it stays at its limit, and answers stay right.
            for n in 0..<(SQLiteConnection.statementCacheLimit + 40) {
                #expect(try c.query("SELECT \(n) + count(*) FROM t").first?[0]?.intValue == n + 50)
            }
            #expect(c.cachedStatements <= SQLiteConnection.statementCacheLimit)
            #expect(try c.query("SELECT sum(n) FROM t").first?[0]?.intValue == 1225)
        }
    }

    @Test func busyTimeoutIsConfigurable() throws {
        let folder = try TemporaryDirectory()
        let store = try Store.open(path: folder.path("refit.sqlite"), busyTimeoutMilliseconds: 1234)
        #expect(try store.database.query("PRAGMA busy_timeout").first?[0]?.intValue == 1234)
    }

    @Test func valuesRoundTrip() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n ANY) STRICT")
        let blob = Data([0, 1, 2, 255])
        let text = "zürich \u{1F600} with\0nul"
        try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                       [.integer(Int64.min), .real(-2.5), .text(text), .blob(blob), .null])
        try db.execute("INSERT INTO t VALUES (:i, :r, :s, :b, :n)",
                       named: ["i": 42, ":r": 0.25, "s": "", "b": .blob(Data()), "n": nil])
        let rows = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid")
        #expect(rows.count == 2)
        #expect(rows[0].int64("i") == Int64.min)
        #expect(rows[0].double("r") == -2.5)
        #expect(rows[0].string("s") == text)
        #expect(rows[0].data("b") == blob)
        #expect(rows[0]["n"] == .null)
        #expect(rows[1].int("i") == 42)
        #expect(rows[1].string("s") == "")
        #expect(rows[1].data("b") == Data())
    }

    @Test func bindingMistakesAreErrorsNotCrashes() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try db.execute("CREATE TABLE t (x INTEGER)")
        let tooFew = #expect(throws: StoreError.self) { try db.execute("INSERT INTO t VALUES (?)") }
        #expect(tooFew?.code == .other)
        let unknown = #expect(throws: StoreError.self) {
            try db.execute("INSERT INTO t VALUES (:x)", named: ["y": 1])
        }
        #expect(unknown?.message.contains("'y'") == true)
        let twoStatements = #expect(throws: StoreError.self) { try db.execute("SELECT 1; SELECT 2") }
        #expect(twoStatements?.code == .other)
        let syntax = #expect(throws: StoreError.self) { try db.execute("SELEKT 1") }
        #expect(syntax?.message.contains("syntax error") == true)
    }

    @Test func lastInsertRowIDAndChanges() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)")
        let (rowid, changed) = try db.transaction { connection in
            try connection.execute("INSERT INTO t (x) VALUES (1), (2), (3)")
            let rowid = connection.lastInsertRowID
            let changed = try connection.execute("UPDATE t SET x = x + 1 WHERE x >= 2")
            return (rowid, changed)
        }
        #expect(rowid == 3)
        #expect(changed == 2)
    }

    @Test func constraintViolationsMapToConstraint() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL CHECK (v > 0)) STRICT")
        try db.execute("INSERT INTO t VALUES ('secret-key-value', 1)")
        let unique = #expect(throws: StoreError.self) { try db.execute("INSERT INTO t VALUES (?, 2)", ["secret-key-value"]) }
        #expect(unique?.code == .constraint)
        #expect(unique?.message.contains("UNIQUE constraint failed: t.k") == true)
        // Bound values never appear in the message.
        #expect(unique?.message.contains("secret-key-value") == false)
        let check = #expect(throws: StoreError.self) { try db.execute("INSERT INTO t VALUES ('b', -1)") }
        #expect(check?.code == .constraint)
        let notNull = #expect(throws: StoreError.self) { try db.execute("INSERT INTO t VALUES ('c', NULL)") }
        #expect(notNull?.code == .constraint)
    }

    @Test func transactionRollsBackWhenTheBodyThrows() throws {
        struct Boom: Error {}
        let db = try SQLiteDatabase(path: ":memory:")
        try db.execute("CREATE TABLE t (x INTEGER)")
        #expect(throws: Boom.self) {
            try db.transaction { connection in
                try connection.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(try db.query("SELECT count(*) FROM t").first?[0]?.intValue == 0)
        // Nested transactions are savepoints: the inner failure undoes only the inner work.
        try db.transaction { connection in
            try connection.execute("INSERT INTO t VALUES (1)")
            #expect(throws: Boom.self) {
                try connection.transaction { inner in
                    try inner.execute("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
        }
        #expect(try db.query("SELECT x FROM t").map { $0[0]?.intValue } == [1])
        #expect(try db.withConnection { !$0.isInTransaction })
    }

    @Test func missingFolderIsAClearError() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("no/such/folder/refit.sqlite")
        let error = #expect(throws: StoreError.self) { try Store.open(path: path) }
        #expect(error?.code == .cannotOpen)
        #expect(error?.message.contains("does not exist") == true)
    }

    @Test func folderInsteadOfFileIsAClearError() throws {
        let folder = try TemporaryDirectory()
        let error = #expect(throws: StoreError.self) { try Store.open(path: folder.url.path) }
        #expect(error?.code == .cannotOpen)
    }

    @Test func fileThatIsNotADatabaseIsAClearError() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("notes.sqlite")
        try Data(String(repeating: "this is a text file, not a database\n", count: 100).utf8)
            .write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StoreError.self) { try Store.open(path: path) }
        #expect(error?.code == .corrupt)
        #expect(error?.message == "'\(path)' is not a SQLite database.")
    }

    @Test func writerWithoutPatienceGetsBusy() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        let first = try SQLiteDatabase(path: path)
        try first.execute("CREATE TABLE t (x INTEGER)")
        let impatient = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: 0)
        try first.transaction { connection in
            try connection.execute("INSERT INTO t VALUES (1)")
            let error = #expect(throws: StoreError.self) { try impatient.execute("INSERT INTO t VALUES (2)") }
            #expect(error?.code == .busy)
            #expect(error?.isRetryable == true)
        }
        // WAL: a reader is never blocked and sees only committed rows.
        #expect(try impatient.query("SELECT count(*) FROM t").first?[0]?.intValue == 1)
    }

    @Test func twoConnectionsToOneFileBothWrite() async throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        let a = try Store.open(path: path)
        let b = try Store.open(path: path)
        try a.database.execute("CREATE TABLE counter (writer TEXT NOT NULL, n INTEGER NOT NULL) STRICT")
        let perWriter = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, store) in [("a", a), ("b", b)] {
                group.addTask {
                    for n in 0..<perWriter {
                        try store.database.transaction { connection in
                            let next = try connection.query("SELECT count(*) FROM counter").first?[0]?.intValue ?? 0
                            try connection.execute("INSERT INTO counter VALUES (?, ?)", [.text(name), .integer(Int64(next))])
                        }
                        _ = n
                    }
                }
            }
            try await group.waitForAll()
        }
        let rows = try a.database.query("SELECT writer, count(*) AS c FROM counter GROUP BY writer ORDER BY writer")
        #expect(rows.map { $0.string("writer") } == ["a", "b"])
        #expect(rows.map { $0.int("c") } == [perWriter, perWriter])
        // BEGIN IMMEDIATE serialized every read-then-write: each insert saw all earlier ones.
        let distinct = try a.database.query("SELECT count(DISTINCT n) FROM counter").first?[0]?.intValue
        #expect(distinct == 2 * perWriter)
    }

    /// A database file with table `t`, a connection that will hold its write lock, and one that
    /// waits for it up to `waiterTimeout` milliseconds.
    private func holderAndWaiter(in folder: TemporaryDirectory, waiterTimeout: Int)
        throws -> (path: String, holder: SQLiteDatabase, waiter: SQLiteDatabase)
    {
        let path = folder.path("refit.sqlite")
        let holder = try SQLiteDatabase(path: path)
        try holder.execute("CREATE TABLE t (x INTEGER)")
        return (path, holder, try SQLiteDatabase(path: path, busyTimeoutMilliseconds: waiterTimeout))
    }

    @Test func waitingWriterProceedsWhenTheLockIsReleased() throws {
        let folder = try TemporaryDirectory()
        let (_, holder, waiter) = try holderAndWaiter(in: folder, waiterTimeout: 10_000)
        let locked = DispatchSemaphore(value: 0)
        let thread = Thread {
            try? holder.transaction { connection in
                try connection.execute("INSERT INTO t VALUES (1)")
                locked.signal()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        thread.start()
        locked.wait()
        // Blocks on busy_timeout until the holder commits, then succeeds.
        try waiter.execute("INSERT INTO t VALUES (2)")
        #expect(try waiter.query("SELECT x FROM t ORDER BY x").map { $0[0]?.intValue } == [1, 2])
    }

    @Test func readsRefuseWritesAndTransactions() async throws {
        let folder = try TemporaryDirectory()
        let db = try SQLiteDatabase(path: folder.path("refit.sqlite"))
        try db.execute("CREATE TABLE t (x INTEGER)")
        try db.execute("INSERT INTO t VALUES (1)")
        let write = await #expect(throws: StoreError.self) {
            try await db.read { c in try c.execute("UPDATE t SET x = 2") }
        }
        #expect(write?.message.contains("inside a read") == true)
        await #expect(throws: StoreError.self) {
            try await db.read { c in try c.transaction { _ in 1 } }
        }
        // Nothing was written, and the connection reads and writes as before.
        #expect(try await db.read { c in try c.query("SELECT x FROM t").map { $0[0]?.intValue } } == [1])
        _ = try await db.write { c in try c.execute("UPDATE t SET x = 3") }
        #expect(try await db.read { c in try c.query("SELECT x FROM t").first?[0]?.intValue } == 3)
    }

    @Test func callsFromInsideACallAreRefused() async throws {
        let folder = try TemporaryDirectory()
        let db = try SQLiteDatabase(path: folder.path("refit.sqlite"))
        try db.execute("CREATE TABLE t (x INTEGER)")
        for body in [{ @Sendable (c: SQLiteConnection) throws -> Void in _ = try db.query("SELECT 1") },
                     { @Sendable (c: SQLiteConnection) throws -> Void in try db.execute("INSERT INTO t VALUES (1)") }] {
            let inWrite = await #expect(throws: StoreError.self) { try await db.write(body) }
            #expect(inWrite?.code == .reentrant)
            let inRead = await #expect(throws: StoreError.self) { try await db.read(body) }
            #expect(inRead?.code == .reentrant)
            let inRun = await #expect(throws: StoreError.self) { try await db.run(body) }
            #expect(inRun?.code == .reentrant)
        }
        #expect(try db.query("SELECT count(*) FROM t").first?[0]?.intValue == 0)
    }

    /// A write that finds another connection holding the write lock waits on the database's own
    /// executor, not on a thread of the cooperative pool: with more writers waiting than the pool
    /// has threads, other async work still runs while the lock is held.
    @Test func waitingWritesLeaveTheCooperativePoolFree() async throws {
        let folder = try TemporaryDirectory()
        let (path, holder, waiter) = try holderAndWaiter(in: folder, waiterTimeout: 30_000)
        let locked = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let releasedOnItsOwn = LockedFlag()
        let thread = Thread {
            try? holder.transaction { connection in
                try connection.execute("INSERT INTO t VALUES (0)")
                locked.signal()
                // Released by the test once other work ran; by itself after 20 s, so that a
                // blocked pool fails the test instead of hanging it.
                if release.wait(timeout: .now() + 20) == .timedOut { releasedOnItsOwn.set() }
            }
        }
        thread.start()
        locked.wait()
        let writers = 2 * max(2, ProcessInfo.processInfo.activeProcessorCount)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 1...writers {
                group.addTask { () async throws -> Void in
                    _ = try await waiter.write { c in try c.execute("INSERT INTO t VALUES (?)", [.integer(Int64(n))]) }
                }
            }
            // Other async work on the pool, while every writer waits for the lock.
            let sum = try await withThrowingTaskGroup(of: Int.self) { inner in
                for n in 1...writers { inner.addTask { await Task.yield(); return n } }
                return try await inner.reduce(0, +)
            }
            #expect(sum == writers * (writers + 1) / 2)
            #expect(try SQLiteDatabase(path: path).query("SELECT count(*) FROM t").first?[0]?.intValue == 0)  // nothing committed yet
            release.signal()
            try await group.waitForAll()
        }
        #expect(!releasedOnItsOwn.isSet)
        #expect(try waiter.query("SELECT count(*) FROM t").first?[0]?.intValue == writers + 1)
    }
}

private final class LockedFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
