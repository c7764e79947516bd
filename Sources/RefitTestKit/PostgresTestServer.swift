import Foundation

/// The PostgreSQL server tests use: the one `REFIT_TEST_PG_URL` names, or else a private one
/// this process starts with `scripts/pg-test-server.sh` on first use (once per process) and
/// stops when it exits — so `swift test` alone works wherever PostgreSQL's server binaries are
/// installed.
public enum PostgresTestServer {
    /// The variable naming an existing server (a superuser's URL: tests create databases).
    public static let urlVariable = "REFIT_TEST_PG_URL"

    /// The server's URL, starting the private server if needed.
    public static func url() throws -> String {
        if let url = ProcessInfo.processInfo.environment[urlVariable], !url.isEmpty { return url }
        return try PrivatePostgresServer.shared.start()
    }

    /// `url` with its database replaced by `database`.
    public static func url(_ url: String, database: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + database
        return components.string ?? url
    }
}

/// The server this process started, stopped at exit.
final class PrivatePostgresServer: @unchecked Sendable {
    static let shared = PrivatePostgresServer()

    private let lock = NSLock()
    // Guarded by `lock`.
    private var started: (url: String, folder: URL)?

    static var script: URL { BuiltProducts.packageRoot.appendingPathComponent("scripts/pg-test-server.sh") }

    func start() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let started { return started.url }
        Self.stopOrphans()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refit-pg-\(UUID().uuidString)", isDirectory: true)
        let result = try runProcess(URL(fileURLWithPath: "/bin/bash"), [Self.script.path, "start", folder.path], deadline: .seconds(120))
        guard result.exitCode == 0, let url = result.stdout.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres") else {
            throw PostgresTestServerError(message: "Could not start a PostgreSQL server for the tests (set \(PostgresTestServer.urlVariable) to use one): "
                                          + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        started = (url, folder)
        try? String(getpid()).write(to: folder.appendingPathComponent("owner.pid"), atomically: true, encoding: .utf8)
        atexit { PrivatePostgresServer.shared.stop() }
        return url
    }

    /// Stops the servers of test processes that were killed before their exit handler ran
    /// (each server's folder names its owner's pid).
    static func stopOrphans() {
        let temporary = FileManager.default.temporaryDirectory
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        for name in folders where name.hasPrefix("refit-pg-") {
            let folder = temporary.appendingPathComponent(name, isDirectory: true)
            guard let text = try? String(contentsOf: folder.appendingPathComponent("owner.pid"), encoding: .utf8),
                  let owner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  kill(owner, 0) != 0, errno == ESRCH else { continue }
            _ = try? runProcess(URL(fileURLWithPath: "/bin/bash"), [script.path, "stop", folder.path], deadline: .seconds(60))
            try? FileManager.default.removeItem(at: folder)
        }
    }

    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard let started else { return }
        self.started = nil
        _ = try? runProcess(URL(fileURLWithPath: "/bin/bash"), [Self.script.path, "stop", started.folder.path], deadline: .seconds(60))
        try? FileManager.default.removeItem(at: started.folder)
    }
}

/// Why no PostgreSQL server is available for the tests.
public struct PostgresTestServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
