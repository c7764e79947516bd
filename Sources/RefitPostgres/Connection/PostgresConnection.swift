import CLazyLibraries
import CLibPQ
import Foundation
import RefitStore

/// One libpq connection. Not thread-safe: `PostgresDatabase` owns it on its serial queue. Every
/// statement goes through `PQexecParams` with its values apart from the SQL; every failure
/// becomes a `StoreError` whose message names the server without its password.
public final class PostgresConnection {
    private var handle: OpaquePointer?
    /// The URL with any password removed: what messages name.
    public let displayName: String
    private let password: String?

    /// Connects to `url` (`postgres://user[:password]@host:port/database?…`, or any libpq
    /// connection string). The password may also come from `PGPASSWORD` or `~/.pgpass`, which
    /// libpq reads itself, or be given as `password` (`--db-password`): then it travels to libpq
    /// as a connection parameter of its own, after the URL's (so it wins over one written there),
    /// and is never part of a string that could be printed.
    public init(url: String, password: String? = nil) throws {
        let redacted = Self.redacted(url)
        // libpq is opened on first use (CLazyLibraries).
        if let reason = refit_pq_load() {
            throw StoreError(.unavailable, "Could not connect to PostgreSQL at \(redacted.display): \(String(cString: reason)).")
        }
        displayName = redacted.display
        self.password = password ?? redacted.password
        handle = Self.connect(url: url, password: password)
        Self.silenceNotices(handle)
        guard refit_PQstatus(handle) == CONNECTION_OK else {
            let reason = Self.connectionReason(handle, password: self.password)
            refit_PQfinish(handle)
            handle = nil
            throw StoreError(.unavailable, "Could not connect to PostgreSQL at \(displayName): \(reason)")
        }
        try configure()
    }

    deinit { if let handle { refit_PQfinish(handle) } }

    /// libpq prints the server's notices to stderr by default — among them the `FATAL:
    /// terminating connection` a server sends when it shuts down — which would put raw lines
    /// between the worker's log lines (and break `--log-format json`). Refit reports a lost
    /// connection itself, as a `StoreError`; the notices are dropped. The processor stays with
    /// the connection across `PQreset`.
    private static func silenceNotices(_ handle: OpaquePointer?) {
        guard let handle else { return }
        refit_PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    /// `PQconnectdbParams` with the URL expanded as `dbname` and the password as a parameter of
    /// its own; without one, the URL alone (libpq still reads PGPASSWORD and ~/.pgpass).
    private static func connect(url: String, password: String?) -> OpaquePointer? {
        guard let password else { return refit_PQconnectdb(url) }
        let keywords: [UnsafeMutablePointer<CChar>?] = ["dbname", "password"].map { (text: String) in strdup(text) }
        let values: [UnsafeMutablePointer<CChar>?] = [url, password].map { (text: String) in strdup(text) }
        defer {
            keywords.forEach { free($0) }
            // The copy of the password is wiped before it is freed.
            if let copy = values[1] { memset(copy, 0, strlen(copy)) }
            values.forEach { free($0) }
        }
        let keywordPointers: [UnsafePointer<CChar>?] = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        return keywordPointers.withUnsafeBufferPointer { k in
            valuePointers.withUnsafeBufferPointer { v in refit_PQconnectdbParams(k.baseAddress, v.baseAddress, 1) }
        }
    }

    /// Times are read and written in UTC; notices (CREATE … IF NOT EXISTS) stay off stderr.
    private func configure() throws {
        try execute("SET TIME ZONE 'UTC'")
        try execute("SET client_min_messages = warning")
    }

    /// Whether the connection is unusable (the server went away, the network failed).
    public var isBroken: Bool { refit_PQstatus(handle) != CONNECTION_OK }

    /// The server process serving this connection (what `NOTIFY` reports as the sender).
    public var backendPID: Int32 { refit_PQbackendPID(handle) }

    /// Reconnects with the same parameters; throws `.unavailable` when the server is still unreachable.
    func reset() throws {
        refit_PQreset(handle)
        guard refit_PQstatus(handle) == CONNECTION_OK else {
            throw StoreError(.unavailable, "Lost the connection to PostgreSQL at \(displayName) and could not reconnect: "
                             + Self.connectionReason(handle, password: password))
        }
        try configure()
    }

    /// Whether an INSERT, UPDATE or DELETE changed a row since `wrote` was last reset (a write
    /// transaction that changed nothing does not wake other workers).
    var wrote = false

    /// Runs one statement; returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws -> Int {
        try withResult(sql, parameters) { result in
            let count = Int(String(cString: refit_PQcmdTuples(result))) ?? 0
            let command = String(cString: refit_PQcmdStatus(result))
            if count > 0 && (command.hasPrefix("INSERT") || command.hasPrefix("UPDATE") || command.hasPrefix("DELETE")) {
                wrote = true
            }
            return count
        }
    }

    /// Runs one query and returns every row.
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> [PostgresRow] {
        try withResult(sql, parameters) { result in
            let columnCount = refit_PQnfields(result)
            let columns = (0..<columnCount).map { String(cString: refit_PQfname(result, $0)) }
            return (0..<refit_PQntuples(result)).map { row in
                PostgresRow(columns: columns, values: (0..<columnCount).map { column in
                    refit_PQgetisnull(result, row, column) == 1 ? nil : String(cString: refit_PQgetvalue(result, row, column))
                })
            }
        }
    }

    /// Runs several statements without parameters (a migration script) in one round trip.
    func executeScript(_ sql: String) throws {
        let result = refit_PQexec(handle, sql)
        defer { refit_PQclear(result) }
        try check(result)
    }

    /// Notifications received on this connection since the last call: (channel, sender pid).
    func notifications() throws -> [(channel: String, sender: Int32)] {
        guard refit_PQconsumeInput(handle) == 1 else {
            throw StoreError(.unavailable, "Lost the listening connection to PostgreSQL at \(displayName): "
                             + Self.connectionReason(handle, password: password))
        }
        var found: [(channel: String, sender: Int32)] = []
        while let notice = refit_PQnotifies(handle) {
            found.append((String(cString: notice.pointee.relname), notice.pointee.be_pid))
            refit_PQfreemem(notice)
        }
        return found
    }

    private func withResult<T>(_ sql: String, _ parameters: [PostgresValue], _ read: (OpaquePointer?) throws -> T) throws -> T {
        let types = parameters.map(\.typeOID)
        let texts: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.wireText.map { strdup($0) } ?? nil }
        defer { texts.forEach { free($0) } }
        let result = texts.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
            types.withUnsafeBufferPointer { types in
                refit_PQexecParams(handle, sql, Int32(parameters.count), types.baseAddress, values.baseAddress, nil, nil, 0)
            }
        }
        defer { refit_PQclear(result) }
        try check(result)
        return try read(result)
    }

    /// Throws the statement's failure as a `StoreError`: SQLSTATE class 40 (serialization,
    /// deadlock) is `.busy`, 23 `.constraint`, 53 `.full`, a lost connection `.unavailable`.
    private func check(_ result: OpaquePointer?) throws {
        let status = refit_PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return }
        if result == nil || isBroken {
            throw StoreError(.unavailable, "Lost the connection to PostgreSQL at \(displayName): "
                             + Self.connectionReason(handle, password: password))
        }
        let state = field(result, "C") ?? ""
        let primary = redact(field(result, "M") ?? String(cString: refit_PQresultErrorMessage(result)))
        let code: StoreError.Code
        let prefix: String
        switch state.prefix(2) {
        case "40": code = .busy; prefix = "PostgreSQL aborted a transaction that conflicted with another one"
        case "23": code = .constraint; prefix = "A database constraint rejected the change"
        case "53": code = .full; prefix = "The PostgreSQL server is out of resources"
        case "08", "57": code = .unavailable; prefix = "The PostgreSQL server at \(displayName) is unavailable"
        default: code = .other; prefix = "PostgreSQL refused a statement"
        }
        throw StoreError(code, "\(prefix) (SQLSTATE \(state)): \(Self.sentence(primary))")
    }

    private func field(_ result: OpaquePointer?, _ code: Character) -> String? {
        guard let ascii = code.asciiValue, let text = refit_PQresultErrorField(result, Int32(ascii)) else { return nil }
        return String(cString: text)
    }

    private func redact(_ text: String) -> String {
        guard let password, !password.isEmpty else { return text }
        return text.replacingOccurrences(of: password, with: "***")
    }

    private static func connectionReason(_ handle: OpaquePointer?, password: String?) -> String {
        var reason = handle.map { String(cString: refit_PQerrorMessage($0)) } ?? "out of memory"
        if let password, !password.isEmpty { reason = reason.replacingOccurrences(of: password, with: "***") }
        // libpq's messages span lines ("connection to server … failed: FATAL:  …"); keep one sentence.
        let lines = reason.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        reason = lines.enumerated().map { index, line in index == 0 ? line : line.prefix(1).lowercased() + line.dropFirst() }
            .joined(separator: "; ")
        return sentence(reason.isEmpty ? "no reason given" : reason)
    }

    /// The URL without its password, and the password (to scrub it from any server text).
    static func redacted(_ url: String) -> (display: String, password: String?) {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://"),
              var components = URLComponents(string: url) else { return ("the configured PostgreSQL server", nil) }
        let password = components.password
        components.password = nil
        components.query = nil
        return (components.string ?? "the configured PostgreSQL server", password)
    }

    static func sentence(_ text: String) -> String {
        var trimmed = text
        while let last = trimmed.last, last == "." || last == " " || last == "\n" { trimmed.removeLast() }
        return trimmed.hasSuffix("?") ? trimmed : trimmed + "."
    }
}
