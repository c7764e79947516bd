import Foundation
import RefitPostgres
import RefitTestKit

/// A fresh database per test on the tests' PostgreSQL server, dropped when released.
final class PostgresTestDatabase: Sendable {
    let url: String
    private let name: String
    private let adminURL: String

    private static let counter = Counter()

    init() throws {
        adminURL = try PostgresTestServer.url()
        name = "refit_test_\(getpid())_\(Self.counter.next())"
        // A database name cannot be a parameter; this one is built from digits only.
        try PostgresConnection(url: adminURL).execute("CREATE DATABASE \(name)")
        url = PostgresTestServer.url(adminURL, database: name)
    }

    deinit {
        _ = try? PostgresConnection(url: adminURL).execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
