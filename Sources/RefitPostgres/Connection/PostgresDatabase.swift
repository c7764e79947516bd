import Dispatch
import Foundation
import RefitStore

/// A PostgreSQL database behind one serial executor, as `SQLiteDatabase` is (decision 10): a
/// private dispatch queue owns the connection and runs every call in turn, so async callers
/// suspend instead of blocking the cooperative pool while libpq waits on the network.
///
/// Lost connections: before each call a broken connection is reset with backoff. A write
/// transaction that fails before its COMMIT was sent (the connection dropped, or the server
/// rolled it back as a serialization failure or deadlock) is rolled back and run again from
/// the start — its body only reads and writes the database, so it decides again on fresh rows.
/// A connection lost while COMMIT was in flight is surfaced (`.unavailable`): the change may or
/// may not have been written, and only the caller's next read can tell.
///
/// Every write transaction that changed a row ends with `NOTIFY refit_changes` (delivered at
/// COMMIT, never for a rolled-back one); `changeToken()` counts the notifications other
/// connections sent, received on a second, listening connection. A transaction that changed
/// nothing (a claim that lost, a pass with nothing new) stays silent, so idle workers do not
/// wake each other.
public final class PostgresDatabase: @unchecked Sendable {
    /// The URL without its password.
    public let displayName: String
    // `connection`, `listener` and `changes` are only touched on `queue`: that is what makes
    // the `@unchecked Sendable` sound.
    private let connection: PostgresConnection
    private var listener: PostgresConnection?
    private var changes: Int64 = 0
    private let url: String
    /// A password given apart from the URL (`--db-password`), for the listening connection too.
    private let password: String?
    private let queue: DispatchQueue
    private let onQueue = DispatchSpecificKey<Bool>()

    /// How many times a transaction is run when it fails before COMMIT for a retryable reason.
    static let transactionAttempts = 4
    /// How many times a broken connection is reset before the call fails.
    static let reconnectAttempts = 6

    /// Connects to `url`; `password`, when given, travels apart from it (see `PostgresConnection`).
    public init(url: String, password: String? = nil) throws {
        self.url = url
        self.password = password
        connection = try PostgresConnection(url: url, password: password)
        displayName = connection.displayName
        queue = DispatchQueue(label: "refit.postgres")
        queue.setSpecific(key: onQueue, value: true)
    }

    private func refuseReentrancy() throws {
        if DispatchQueue.getSpecific(key: onQueue) == true {
            throw StoreError(.reentrant, "A database call was made from inside another call on the same database; use the connection passed in.")
        }
    }

    /// Runs `body` on the executor with exclusive use of the connection, outside any
    /// transaction (each statement commits alone). Use it for reads; a read is run again once
    /// if the connection drops under it.
    public func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await onExecutor { try self.reading(body) }
    }

    /// Runs `body` in one transaction on the executor, retried from the start when that is
    /// safe (see the type's documentation).
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await onExecutor { try self.transaction(body) }
    }

    /// The synchronous forms, blocking the calling thread (tests, CLI commands).
    public func readNow<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try refuseReentrancy()
        return try queue.sync { try reading(body) }
    }

    @discardableResult
    public func writeNow<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try refuseReentrancy()
        return try queue.sync { try transaction(body) }
    }

    /// Runs `body` in one read-only REPEATABLE READ transaction, blocking: every statement of
    /// it sees the same snapshot, and nothing can be written (the read commands).
    public func snapshotNow<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try readNow { c in
            try c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let value = try body(c)
                try c.execute("COMMIT")
                return value
            } catch {
                _ = try? c.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// A value that moves whenever another connection commits a write transaction (one of
    /// ours or another host's `NOTIFY refit_changes`). Opens the listening connection on first use.
    public func changeToken() async throws -> Int64 {
        try await onExecutor { try self.pollChanges() }
    }

    private func onExecutor<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try refuseReentrancy()
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    // MARK: On the queue

    private func reading<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try ensureConnected()
        do {
            return try body(connection)
        } catch let error as StoreError where error.code == .unavailable && connection.isBroken {
            try ensureConnected()
            return try body(connection)
        }
    }

    private func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            try ensureConnected()
            var committing = false
            do {
                try connection.execute("BEGIN")
                connection.wrote = false
                let value = try body(connection)
                if connection.wrote { try connection.execute("NOTIFY refit_changes") }
                committing = true
                try connection.execute("COMMIT")
                return value
            } catch {
                let broken = connection.isBroken
                if !broken { _ = try? connection.execute("ROLLBACK") }
                if committing && broken {
                    throw StoreError(.unavailable, "The connection to PostgreSQL at \(displayName) was lost while committing; the change may or may not have been written.")
                }
                let retryable = broken || (error as? StoreError)?.code == .busy
                guard retryable, !committing, attempt < Self.transactionAttempts else { throw error }
                Thread.sleep(forTimeInterval: 0.05 * Double(1 << attempt))
            }
        }
    }

    /// Resets a broken connection, waiting 0.2 s, 0.4 s … between tries.
    private func ensureConnected() throws {
        var tries = 0
        while connection.isBroken {
            tries += 1
            do {
                try connection.reset()
            } catch {
                guard tries < Self.reconnectAttempts else { throw error }
                Thread.sleep(forTimeInterval: min(2.0, 0.1 * Double(1 << tries)))
            }
        }
    }

    private func pollChanges() throws -> Int64 {
        do {
            guard let listener else {
                let opened = try PostgresConnection(url: url, password: password)
                try opened.execute("LISTEN refit_changes")
                listener = opened
                return changes
            }
            let own = connection.backendPID
            changes += Int64(try listener.notifications().filter { $0.sender != own }.count)
        } catch let error as StoreError where error.code == .unavailable {
            // Notifications may have been missed while it was down: report a change.
            listener = nil
            changes += 1
        }
        return changes
    }
}
