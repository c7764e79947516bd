import CSQLite
import Foundation

extension SQLiteConnection {
    /// Opens an existing database so that nothing is ever written: for commands that only read
    /// history, on a file (and folder) the reader may not write.
    ///
    /// Refit databases are in WAL mode, and a WAL reader needs the `-shm` index. A plain
    /// `SQLITE_OPEN_READONLY` open works while the `-shm` and `-wal` files exist (a worker is
    /// connected; SQLite reads them even when they are read-only) or can be created (the folder
    /// is writable). When they are absent and the folder is not writable — the last writer
    /// closed cleanly, so the database file alone holds everything — SQLite refuses the first
    /// read; the file is then opened as `file:…?immutable=1`, which reads it without locks or
    /// `-shm`. That fallback assumes nobody writes the file meanwhile: a worker that starts
    /// writing while such a read runs is not seen, and the read may fail (but never changes
    /// the file).
    static func openReadOnly(_ path: String, busyTimeoutMilliseconds: Int) throws -> OpaquePointer {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.cannotOpen, "Cannot open the database '\(path)': it does not exist.")
        }
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        let direct = try open(path, flags: flags, displayName: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        let result = probe(direct)
        if result == SQLITE_OK { return direct }
        let primary = result & 0xff
        let reason = String(cString: sqlite3_errmsg(direct))
        sqlite3_close_v2(direct)
        if primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT {
            throw StoreError(.corrupt, "'\(path)' is not a SQLite database.", sqliteCode: result)
        }
        guard primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN else {
            throw StoreError.sqlite(result, reason, context: "opening '\(path)' for reading")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let encoded = absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? absolute
        let immutable = try open("file:\(encoded)?immutable=1", flags: flags | SQLITE_OPEN_URI, displayName: path,
                                 busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        let second = probe(immutable)
        guard second == SQLITE_OK else {
            let detail = String(cString: sqlite3_errmsg(immutable))
            sqlite3_close_v2(immutable)
            throw StoreError.sqlite(second, detail, context: "opening '\(path)' for reading")
        }
        return immutable
    }

    /// `sqlite3_open_v2` with Refit's per-connection settings for readers: extended result
    /// codes, the busy timeout, and `query_only` as a second guard against writes.
    private static func open(_ filename: String, flags: Int32, displayName: String,
                             busyTimeoutMilliseconds: Int) throws -> OpaquePointer {
        var db: OpaquePointer?
        let result = sqlite3_open_v2(filename, &db, flags, nil)
        guard result == SQLITE_OK, let db else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(result))
            if let db { sqlite3_close_v2(db) }
            throw StoreError(.cannotOpen, "Cannot open the database '\(displayName)': \(StoreError.sentence(reason))",
                             sqliteCode: result)
        }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeoutMilliseconds))
        sqlite3_exec(db, "PRAGMA query_only=1", nil, nil, nil)
        return db
    }

    /// Reads the schema once: the first statement that touches the file (and, in WAL mode,
    /// the `-shm` index). Returns SQLite's extended result code.
    private static func probe(_ db: OpaquePointer) -> Int32 {
        var statement: OpaquePointer?
        var result = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &statement, nil)
        if result == SQLITE_OK {
            result = sqlite3_step(statement)
            if result == SQLITE_ROW { result = SQLITE_OK }
        }
        sqlite3_finalize(statement)
        return result == SQLITE_OK ? SQLITE_OK : sqlite3_extended_errcode(db)
    }
}
