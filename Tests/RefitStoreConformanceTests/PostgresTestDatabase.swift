import Foundation
import RefitPostgres
import RefitTestKit

/// A fresh database per test on the tests' PostgreSQL server, dropped when released. Each is a
/// copy of a template migrated once per test process (copying is several times faster than
/// running the migrations for every test); the store's own open then finds it current.
final class PostgresTestDatabase: Sendable {
    let url: String
    private let name: String
    private let adminURL: String

    fileprivate static let shared = Shared()

    init() throws {
        adminURL = try PostgresTestServer.url()
        let (template, number) = try Self.shared.next(adminURL)
        name = "refit_test_\(getpid())_\(number)"
        // Database names cannot be parameters; these are built from digits and letters only.
        try PostgresConnection(url: adminURL).execute("CREATE DATABASE \(name) TEMPLATE \(template)")
        url = PostgresTestServer.url(adminURL, database: name)
    }

    deinit {
        _ = try? PostgresConnection(url: adminURL).execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// The migrated template (made on first use, while holding the lock) and a counter.
    fileprivate final class Shared: @unchecked Sendable {
        private let lock = NSLock()
        private var template: String?
        private var value = 0

        func next(_ adminURL: String) throws -> (template: String, number: Int) {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            if let template { return (template, value) }
            let name = "refit_template_\(getpid())"
            let admin = try PostgresConnection(url: adminURL)
            try admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            try admin.execute("CREATE DATABASE \(name)")
            // Migrated, then closed: a template must have no open connections to be copied.
            _ = try PostgresSchedulingStore.open(url: PostgresTestServer.url(adminURL, database: name))
            template = name
            templateAdminURL = adminURL
            // Registered after the private server's own exit handler, so it runs first.
            atexit { PostgresTestDatabase.shared.dropTemplate() }
            return (name, value)
        }

        private var templateAdminURL: String?

        func dropTemplate() {
            lock.lock()
            defer { lock.unlock() }
            guard let template, let templateAdminURL else { return }
            _ = try? PostgresConnection(url: templateAdminURL).execute("DROP DATABASE IF EXISTS \(template) WITH (FORCE)")
            self.template = nil
        }
    }
}
