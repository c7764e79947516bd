import Foundation
import RefitPostgres
import RefitTestKit
import Testing

/// `--db-password` (and `$REFIT_DB_PASSWORD`): the PostgreSQL password from a `{"file": …}` or
/// `{"env": …}` secret reference, handed to libpq apart from the URL; a literal is refused. The
/// password never shows in output, errors or the database.
///
/// The tests' private server trusts every role on 127.0.0.1 except `refit_pw`, which must give
/// its password (scripts/pg-test-server.sh); this test creates that role with a fresh password.
/// On a server named by REFIT_TEST_PG_URL that trusts it anyway, the refusals without the right
/// password cannot be observed and are not checked.
@Suite("refit --db-password (PostgreSQL)", .timeLimit(.minutes(5)))
struct PostgresPasswordTests {
    @Test("a password-protected role connects through a file or env secret; literals are refused; the password shows nowhere")
    func passwordFromSecret() async throws {
        let database = try ScratchPostgresDatabase(prefix: "refit_pw")
        let admin = try PostgresConnection(url: database.url)
        let password = "pw" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        // Role names and passwords cannot be parameters; the password is hex digits and letters only.
        try admin.execute("""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'refit_pw') THEN CREATE ROLE refit_pw LOGIN; END IF;
            END $$
            """)
        try admin.execute("ALTER ROLE refit_pw LOGIN PASSWORD '\(password)'")
        let name = try #require(URLComponents(string: database.url)?.path.dropFirst())
        try admin.execute("ALTER DATABASE \(name) OWNER TO refit_pw")
        var components = try #require(URLComponents(string: database.url))
        components.user = "refit_pw"
        let url = try #require(components.string)

        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let secretFile = folder.root.appendingPathComponent("db-password")
        try (password + "\n").write(to: secretFile, atomically: true, encoding: .utf8)
        let wrongFile = folder.root.appendingPathComponent("wrong-password")
        try "not-\(password)".write(to: wrongFile, atomically: true, encoding: .utf8)
        // No PGPASSWORD, and a HOME without a .pgpass: the password can only come from the option.
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": folder.root.path,
                           "DB_SECRET": password]
        var outputs: [String] = []
        func run(_ arguments: [String], _ extra: [String: String] = [:]) async throws -> ProcessResult {
            let result = try await offPool { try refit(arguments, environment: environment.merging(extra) { $1 }) }
            outputs.append(result.stdout + result.stderr)
            return result
        }
        let enforced = (try? PostgresConnection(url: url)) == nil
        let ownServer = (ProcessInfo.processInfo.environment[PostgresTestServer.urlVariable] ?? "").isEmpty
        #expect(enforced || !ownServer, "the private test server lets refit_pw in without its password")

        // From a file: the worker connects, migrates and ticks.
        let tick = try await run(["tick", "--schedules", folder.root.path, "--db", url, "--db-password", #"{"file": "\#(secretFile.path)"}"#])
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        // From a variable, by the option or by REFIT_DB_PASSWORD.
        let status = try await run(["status", "--schedules", folder.root.path, "--db", url, "--format", "json",
                                    "--db-password", #"{"env": "DB_SECRET"}"#])
        #expect(status.exitCode == 0, "stderr: \(status.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        // The tick wrote its windows; it claimed none (no data yet), so it left no worker row.
        let pipelines = try #require(document?["pipelines"] as? [[String: Any]])
        let windows = try #require(pipelines.first?["windows"] as? [String: Int], "\(pipelines)")
        #expect(windows.values.reduce(0, +) > 0, "\(windows)")
        #expect((document?["workerDetails"] as? [[String: Any]])?.isEmpty == true)
        let history = try await run(["history", "--db", url], ["REFIT_DB_PASSWORD": #"{"env": "DB_SECRET"}"#])
        #expect(history.exitCode == 0, "stderr: \(history.stderr)")

        if enforced {
            // Without it, or with a wrong one, the server refuses: exit 3, one sentence.
            for arguments in [["history", "--db", url], ["history", "--db", url, "--db-password", #"{"file": "\#(wrongFile.path)"}"#]] {
                let refused = try await run(arguments)
                #expect(refused.exitCode == 3, "\(arguments): \(refused.stderr)")
                #expect(refused.stderr.hasPrefix("Could not connect to PostgreSQL at postgres://refit_pw@127.0.0.1:"), "\(refused.stderr)")
                #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
            }
        }

        // Bad references: one sentence, exit 1, and nothing of the value echoed.
        let literal = try await run(["history", "--db", url, "--db-password", password])
        #expect(literal.exitCode == 1 && literal.stderr.contains("not the password itself"), "stderr: \(literal.stderr)")
        #expect(literal.stderr.split(separator: "\n").count == 1)
        let literalEnv = try await run(["history", "--db", url], ["REFIT_DB_PASSWORD": password])
        #expect(literalEnv.exitCode == 1 && literalEnv.stderr.contains("REFIT_DB_PASSWORD takes a secret reference"), "\(literalEnv.stderr)")
        let unset = try await run(["history", "--db", url, "--db-password", #"{"env": "NOT_SET_ANYWHERE"}"#])
        #expect(unset.exitCode == 1 && unset.stderr.contains("NOT_SET_ANYWHERE is not set"), "stderr: \(unset.stderr)")
        let both = try await run(["history", "--db", url, "--db-password", #"{"env": "DB_SECRET", "file": "/x"}"#])
        #expect(both.exitCode == 1 && both.stderr.split(separator: "\n").count == 1, "stderr: \(both.stderr)")
        let sqlite = try await run(["history", "--db", folder.database, "--db-password", #"{"env": "DB_SECRET"}"#])
        #expect(sqlite.exitCode == 2 && sqlite.stderr.contains("applies to a PostgreSQL --db"), "stderr: \(sqlite.stderr)")

        // The password is in no output, and in no row of any table.
        #expect(!outputs.contains { $0.contains(password) })
        let tables = try admin.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").compactMap { $0.string("tablename") }
        #expect(tables.contains("workers") && tables.contains("events"))
        for table in tables {
            let hits = try admin.query("SELECT count(*) AS n FROM \"\(table)\" t WHERE t::text LIKE $1", [.text("%\(password)%")])
            #expect(hits.first?.int("n") == 0, "the password is in \(table)")
        }
        // The role goes again (a server named by REFIT_TEST_PG_URL outlives the test).
        try admin.execute("REASSIGN OWNED BY refit_pw TO CURRENT_USER")
        try admin.execute("DROP OWNED BY refit_pw")
        try admin.execute("ALTER DATABASE \(name) OWNER TO CURRENT_USER")
        _ = try? admin.execute("DROP ROLE refit_pw")
    }
}
