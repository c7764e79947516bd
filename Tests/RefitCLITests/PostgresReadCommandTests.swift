import Foundation
import RefitCore
import RefitPostgres
import RefitTestKit
import Testing

/// The read commands on PostgreSQL (`status`, `history`, `show`, `slices`, `lineage`, `backfills`,
/// `audit list`, `audit verify`):
/// the same scenario ticked into a SQLite file and into a PostgreSQL database reads back as the
/// same JSON, apart from run ids, times and hashes.
@Suite("read commands on PostgreSQL (emulator)", .timeLimit(.minutes(5)))
struct PostgresReadCommandTests {
    @Test("status, history, show, slices, lineage, backfills and audit read PostgreSQL as they read SQLite; audit verify detects an edited event")
    func readCommandsMatchSQLite() async throws {
        let database = try ScratchPostgresDatabase(prefix: "refit_read")
        let url = database.url

        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let pipelinePath = "pipelines/retrain-pipeline.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T01:00:00Z""#))
        // One window per activity: with more, whether an update is superseded depends on which
        // attempt finishes first, and the two stores' histories could differ for that alone.
        try folder.writeTrainingSlices(hours: 1)
        let environment = try demoEnvironment(emulator.info)
        let databases = [folder.database, url]
        for db in databases {
            let tick = try await refitOffPool("tick", "--schedules", folder.root.path, "--db", db, environment: environment)
            #expect(tick.exitCode == 0, "stderr: \(tick.stderr.suffix(800))")
        }

        func json(_ arguments: [String], db: String) async throws -> Any {
            let result = try await offPool { try refit(arguments + ["--db", db], environment: environment) }
            #expect(result.exitCode == 0, "\(arguments): \(result.stderr)")
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        }
        @discardableResult
        func same(_ arguments: String..., unordered: Bool = false) async throws -> String {
            let sqlite = Self.normalized(try await json(arguments, db: folder.database), unordered: unordered)
            let postgres = Self.normalized(try await json(arguments, db: url), unordered: unordered)
            #expect(sqlite == postgres, "\(arguments)\nSQLite:     \(sqlite)\nPostgreSQL: \(postgres)")
            return postgres
        }
        try await same("status", "--schedules", folder.root.path, "--format", "json")
        try await same("status", "--schedules", folder.root.path, "--pipeline", "RetrainPipeline", "--format", "json")
        try await same("history", "--format", "json", unordered: true)
        try await same("history", "--pipeline", "RetrainPipeline", "--activity", "Retrain", "--status", "Succeeded",
                       "--window", "2026-01-01T00:00:00Z", "--format", "json")
        try await same("history", "--activity", "Retrain", "--order", "newest", "--limit", "1", "--since", "2020-01-01T00:00:00Z",
                       "--format", "json")
        let slices = try await same("slices", "--schedules", folder.root.path, "--pipeline", "RetrainPipeline", "--format", "json")
        #expect(slices.contains(#""kind":"external""#) && slices.contains(#""kind":"window""#), "\(slices)")
        try await same("slices", "--pipeline", "RetrainPipeline", "--status", "Ready", "--from", "2026-01-01T00:00:00Z",
                       "--to", "2026-01-01T01:00:00Z", "--format", "json")
        let lineage = try await same("lineage", "--schedules", folder.root.path, "--pipeline", "RetrainPipeline",
                                     "--activity", "UpdateScoringEndpoint", "--format", "json")
        #expect(lineage.contains(#""serving":true"#) && lineage.contains(#""trainedBy":{"#), "\(lineage)")
        try await same("lineage", "--schedules", folder.root.path, "--dataset", "TrainingData", "--slice", "2026-01-01T00:00:00Z",
                       "--format", "json")
        // A backfill recorded (not worked on) in both lists alike.
        for db in databases {
            let backfill = try await refitOffPool("backfill", "--schedules", folder.root.path, "--db", db, "--pipeline", "RetrainPipeline",
                                                  "--activity", "Retrain", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T01:00:00Z",
                                                  "--mode", "all", "--reason", "re-train", environment: environment)
            #expect(backfill.exitCode == 0, "stderr: \(backfill.stderr)")
        }
        let backfills = try await same("backfills", "--format", "json")
        #expect(backfills.contains(#""reason":"re-train""#), "\(backfills)")
        try await same("audit", "list", "--format", "json", unordered: true)
        try await same("audit", "list", "--pipeline", "RetrainPipeline", "--since", "2020-01-01T00:00:00Z", "--format", "json",
                       unordered: true)

        // `show` of the same window's attempt, found by a prefix of its run id.
        var shown: [String] = []
        for db in databases {
            let rows = try #require(try await json(["history", "--activity", "Retrain", "--window", "2026-01-01T00:00:00Z",
                                                    "--format", "json"], db: db) as? [[String: Any]])
            let runID = try #require(rows.first?["runId"] as? String)
            shown.append(Self.normalized(try await json(["show", String(runID.prefix(10)), "--format", "json"], db: db), unordered: true))
        }
        #expect(shown[0] == shown[1], "SQLite:     \(shown[0])\nPostgreSQL: \(shown[1])")
        let unknown = try await refitOffPool("show", "--db", url, "no-such-run", environment: environment)
        #expect(unknown.exitCode == 1 && unknown.stderr.contains("No run with id 'no-such-run'"), "stderr: \(unknown.stderr)")
        #expect(!unknown.stderr.contains("postgres://") || !unknown.stderr.contains(":@"))

        // Unknown filters are refused as on SQLite, naming the database without its password.
        let withPassword = url.replacingOccurrences(of: "postgres://refit@", with: "postgres://refit:hunter2@")
        let noPipeline = try await refitOffPool("history", "--db", withPassword, "--pipeline", "Nope", environment: environment)
        #expect(noPipeline.exitCode == 1 && noPipeline.stderr.contains("No pipeline named 'Nope'"), "stderr: \(noPipeline.stderr)")
        #expect(!noPipeline.stderr.contains("hunter2"))

        // A lease held by a worker on another host shows in status, with its expiry.
        let c = try PostgresConnection(url: url)
        try c.execute("""
            UPDATE windows SET lease_owner = 'host-b:4242', lease_expires_at = now() + interval '5 minutes'
            WHERE activity = 'Retrain' AND window_start = '2026-01-01T00:00:00Z'
            """)
        let status = try #require(try await json(["status", "--schedules", folder.root.path, "--format", "json"], db: url) as? [String: Any])
        #expect(status["workers"] as? [String] == ["host-b:4242"], "\(status)")
        try c.execute("UPDATE windows SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = 'host-b:4242'")

        // The chain verifies; the table line names the count and the tail hash.
        let verify = try await refitOffPool("audit", "verify", "--db", url, "--format", "json", environment: environment)
        #expect(verify.exitCode == 0, "stderr: \(verify.stderr)")
        let verified = try #require(try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [String: Any])
        let tail = try #require(verified["tailHash"] as? String)
        #expect(verified["intact"] as? Bool == true && (verified["events"] as? Int ?? 0) > 4, "\(verified)")
        let expectTail = try await refitOffPool("audit", "verify", "--db", url, "--expect-tail", tail, environment: environment)
        #expect(expectTail.exitCode == 0 && expectTail.stdout.contains("which is the expected tail"), "stdout: \(expectTail.stdout)")

        // An event edited by SQL (the append-only trigger set aside, as an intruder with the
        // owner's rights could): verify fails naming it, exit 1, one sentence.
        let edited = try #require(try c.query("SELECT id FROM events ORDER BY id OFFSET 2 LIMIT 1").first?.int64("id"))
        try c.execute("ALTER TABLE events DISABLE TRIGGER USER")
        try c.execute("UPDATE events SET detail = '{\"edited\":true}' WHERE id = $1", [.integer(edited)])
        try c.execute("ALTER TABLE events ENABLE TRIGGER USER")
        let broken = try await refitOffPool("audit", "verify", "--db", url, environment: environment)
        #expect(broken.exitCode == 1, "stdout: \(broken.stdout)")
        let lines = broken.stderr.split(separator: "\n")
        #expect(lines.count == 1 && broken.stderr.contains("is broken at event \(edited):"), "stderr: \(broken.stderr)")
        #expect(broken.stderr.contains("(\(edited - 1) events before it verify)"), "stderr: \(broken.stderr)")
    }

    @Test("a read command never migrates: a database without Refit's schema is refused (exit 3) and left empty")
    func readCommandsDoNotMigrate() async throws {
        let database = try ScratchPostgresDatabase(prefix: "refit_empty")
        let url = database.url
        for arguments in [["history"], ["audit", "verify"], ["backfills"]] {
            let result = try await offPool { try refit(arguments + ["--db", url]) }
            #expect(result.exitCode == 3, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("is not a Refit database"), "\(arguments): \(result.stderr)")
        }
        let tables = try PostgresConnection(url: url).query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")
        #expect(tables.first?.int("n") == 0)
    }

    /// Keys whose values differ between two runs of the same scenario (ids, clocks, hashes, the
    /// workers' names, event ids, which follow the order concurrent attempts finished in) or
    /// embed them (an event's detail, a journal step's documents).
    static let volatile: Set<String> = [
        "id", "runId", "startedAt", "endedAt", "at", "hash", "generatedAt", "since", "ageSeconds", "leaseExpiresAt", "workerId",
        "externalJobId", "detail", "intent", "result", "resumedFromRunId", "dueAt", "model", "deployRunId", "deployedAt", "createdAt", "fingerprint",
    ]

    /// The document with volatile values blanked, rendered canonically; `unordered` also sorts
    /// arrays (rows whose order depends on which attempt claimed first).
    static func normalized(_ value: Any, unordered: Bool) -> String {
        func walk(_ value: Any) -> Any {
            if let object = value as? [String: Any] {
                return object.reduce(into: [String: Any]()) { result, field in
                    result[field.key] = volatile.contains(field.key) ? "~" : walk(field.value)
                }
            }
            if let array = value as? [Any] {
                let items = array.map(walk)
                guard unordered else { return items }
                return items.sorted { render($0) < render($1) }
            }
            return value
        }
        func render(_ value: Any) -> String {
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else { return "" }
            return String(decoding: data, as: UTF8.self)
        }
        return render(walk(value))
    }
}
