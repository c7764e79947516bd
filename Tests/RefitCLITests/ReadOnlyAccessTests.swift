import Foundation
import Testing
import RefitTestKit

/// The read-only commands on a database nobody may write: a chmod 444 file in a chmod 555
/// folder, with no `-wal`/`-shm` files, no schedules folder and no secret in the environment.
/// As root, permissions do not stop writes, so the commands then run as `nobody` (setpriv).
@Suite("read-only database access (end to end)", .timeLimit(.minutes(5)))
struct ReadOnlyAccessTests {
    /// `refit` as an unprivileged user when the tests run as root, in `directory`, with only PATH set.
    func readOnlyRefit(_ arguments: [String], in directory: URL) throws -> ProcessResult {
        let environment = ["PATH": "/usr/bin:/bin"]
        let binary = BuiltProducts.executable("refit")
        if getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            return try runProcess(URL(fileURLWithPath: "/usr/bin/setpriv"),
                                  ["--reuid=65534", "--regid=65534", "--clear-groups", binary.path] + arguments,
                                  environment: environment, currentDirectory: directory)
        }
        return try runProcess(binary, arguments, environment: environment, currentDirectory: directory)
    }

    @Test("history, show, slices, audit, audit verify and report read a 444 file in a 555 folder and change nothing")
    func readsLockedDownDatabase() async throws {
        let fixture = try await HistoryFixture.shared.value
        let run = try #require(try fixture.history().first)
        let scratch = try fixture.copy()
        defer {
            chmod(scratch.root.path, 0o755)
            scratch.remove()
        }
        let db = scratch.database
        #expect(!FileManager.default.fileExists(atPath: db + "-wal") && !FileManager.default.fileExists(atPath: db + "-shm"))
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        #expect(chmod(db, 0o444) == 0 && chmod(scratch.root.path, 0o555) == 0)
        // The report goes to /tmp, which `nobody` may write to.
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("refit-readonly-report-\(UUID().uuidString).html").path
        defer { try? FileManager.default.removeItem(atPath: report) }
        // The binary must be reachable by `nobody` for the setpriv path.
        let commands: [[String]] = [
            ["history", "--db", db, "--format", "json"],
            ["history", "--db", db, "--pipeline", "RetrainPipeline", "--order", "newest", "--limit", "2"],
            ["show", String(run.runId.prefix(12)), "--db", db],
            ["slices", "--db", db, "--pipeline", "RetrainPipeline", "--format", "json"],
            ["audit", "--db", db, "--format", "csv"],
            ["audit", "verify", "--db", db],
            ["report", "--db", db, "--out", report],
        ]
        for arguments in commands {
            let result = try readOnlyRefit(arguments, in: scratch.root)
            #expect(result.exitCode == 0, "refit \(arguments.joined(separator: " ")): \(result.stderr)")
            #expect(!result.stdout.isEmpty)
        }
        #expect(FileManager.default.fileExists(atPath: report))
        if getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            // Into the 555 folder `nobody` may not write: one sentence, exit 1, nothing left behind.
            let refused = try readOnlyRefit(["report", "--db", db, "--out", scratch.root.appendingPathComponent("r.html").path], in: scratch.root)
            expectRefused(refused, code: 1, containing: "Permission denied.")
        }
        let after = try Data(contentsOf: URL(fileURLWithPath: db))
        #expect(before == after, "the database file changed")
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.root.path)
        #expect(left == ["refit.sqlite"], "files appeared: \(left)")
    }

    @Test("a database of another schema version is refused with one sentence, not migrated (exit 3)")
    func refusesOtherSchemaVersions() async throws {
        let fixture = try await HistoryFixture.shared.value
        let newer = try fixture.copy()
        defer { newer.remove() }
        try sqlite(newer.database, """
            INSERT INTO schema_migrations (version, name, sha256, applied_at)
            VALUES (99, 'future', '\(String(repeating: "0", count: 64))', '2030-01-01T00:00:00Z');
            PRAGMA user_version = 99;
            """)
        let refusedNewer = try refit("history", "--db", newer.database)
        #expect(refusedNewer.exitCode == 3 && isOneSentence(refusedNewer.stderr) && refusedNewer.stderr.contains("newer Refit"),
                "stderr: \(refusedNewer.stderr)")

        let older = try fixture.copy()
        defer { older.remove() }
        try sqlite(older.database, "DELETE FROM schema_migrations WHERE version >= 3; PRAGMA user_version = 2;")
        for command in [["history"], ["audit", "verify"]] {
            let refused = try refit(command + ["--db", older.database])
            #expect(refused.exitCode == 3 && isOneSentence(refused.stderr) && refused.stderr.contains("schema version 2"),
                    "stderr: \(refused.stderr)")
        }
        // Still at version 2: nothing migrated it.
        let probe = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma user_version').fetchone()[0])", older.database])
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2")

        let missing = try refit("history", "--db", older.root.appendingPathComponent("absent.sqlite").path)
        #expect(missing.exitCode == 1 && isOneSentence(missing.stderr), "stderr: \(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: older.root.appendingPathComponent("absent.sqlite").path))
    }
}
