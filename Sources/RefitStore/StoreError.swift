import CSQLite

/// Every failure of the store, as one clear sentence plus a code the caller can branch on
/// (retry on `.busy`, tell the user to upgrade on `.newerSchema`, ...). Messages carry SQLite's
/// own explanation but never bound values, so secrets or user data cannot leak into logs.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members (`error.code == .busy`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Another connection held the write lock longer than `busy_timeout`; retrying may work.
        public static let busy = Code("busy")
        /// A UNIQUE, CHECK, NOT NULL, FOREIGN KEY or trigger constraint rejected the change.
        public static let constraint = Code("constraint")
        /// The file is damaged or is not a SQLite database at all.
        public static let corrupt = Code("corrupt")
        /// The database file could not be opened or created (missing folder, permissions, not Refit's).
        public static let cannotOpen = Code("cannotOpen")
        /// The database was written by a newer Refit whose schema this binary does not know.
        public static let newerSchema = Code("newerSchema")
        /// A migration failed, or an applied migration no longer matches the one this binary carries.
        public static let migrationFailed = Code("migrationFailed")
        /// The disk is full, or writing the file failed (quota, file size limit): nothing was written.
        public static let full = Code("full")
        /// A database call was made from inside another call on the same database (a bug).
        public static let reentrant = Code("reentrant")
        /// The database server could not be reached, or the connection to it was lost (PostgreSQL).
        public static let unavailable = Code("unavailable")
        /// Any other SQLite or usage failure.
        public static let other = Code("other")

        public var description: String { name }
    }

    /// The kind of failure.
    public let code: Code
    /// One sentence for a human, safe to print.
    public let message: String
    /// SQLite's extended result code when the failure came from SQLite.
    public let sqliteCode: Int32?

    public init(_ code: Code, _ message: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
    }

    /// Whether the same operation may succeed if tried again later (lock contention only).
    public var isRetryable: Bool { code == .busy }

    public var description: String { message }

    /// `SQLITE_IOERR_WRITE`, a function-like macro Swift does not import.
    static let sqliteIOErrWrite: Int32 = SQLITE_IOERR | (3 << 8)

    /// Maps an SQLite result code to our codes.
    static func code(forSQLiteResult result: Int32) -> Code {
        // SQLite reports a write refused by a file size limit (EFBIG) or a quota as this I/O error.
        if result == sqliteIOErrWrite { return .full }
        switch result & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_CONSTRAINT: return .constraint
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .corrupt
        case SQLITE_CANTOPEN: return .cannotOpen
        case SQLITE_FULL: return .full
        default: return .other
        }
    }

    /// Builds an error from a failed SQLite call: `context` says what we were doing, SQLite's
    /// message says why. `context` must not contain bound values.
    static func sqlite(_ result: Int32, _ detail: String, context: String) -> StoreError {
        let code = code(forSQLiteResult: result)
        if code == .full {
            // SQLite's own text says "disk I/O error" for a refused write; say what it means.
            let what = (result & 0xff) == SQLITE_FULL ? "The disk is full"
                : "The database file could not be written (the disk is full, or a quota or file size limit was reached)"
            return StoreError(code, "\(what) while \(context); the change was not written.", sqliteCode: result)
        }
        let reason = detail.isEmpty ? String(cString: sqlite3_errstr(result)) : detail
        let prefix: String
        switch code {
        case .busy: prefix = "The database is busy (locked by another connection) while \(context)"
        case .constraint: prefix = "A database constraint rejected the change while \(context)"
        case .corrupt: prefix = "The database file is damaged or not a database while \(context)"
        default: prefix = "SQLite failed while \(context)"
        }
        return StoreError(code, "\(prefix): \(sentence(reason))", sqliteCode: result)
    }

    /// Ends a message fragment with exactly one period.
    static func sentence(_ text: String) -> String {
        var trimmed = text
        while let last = trimmed.last, last == "." || last == " " || last == "\n" { trimmed.removeLast() }
        return trimmed + "."
    }
}
