import Foundation
import RefitPostgres
import RefitTestKit

/// An empty PostgreSQL database of its own on the tests' server (a private one started on first
/// use, or `REFIT_TEST_PG_URL`), dropped when released.
final class ScratchPostgresDatabase: Sendable {
    let url: String
    private let server: String
    private let name: String

    init(prefix: String = "refit_cli") throws {
        server = try PostgresTestServer.url()
        name = "\(prefix)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        // A database name cannot be a parameter; this one is built from letters, digits and `_` only.
        try PostgresConnection(url: server).execute("CREATE DATABASE \(name)")
        url = PostgresTestServer.url(server, database: name)
    }

    deinit {
        _ = try? PostgresConnection(url: server).execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
