import Foundation
import RefitPostgres
import RefitTestKit
import Testing

/// `refit db copy`: a real history moves SQLite → PostgreSQL → SQLite with its ids, times and
/// audit chain, a second copy changes nothing, and a target holding other history is refused.
@Suite("refit db copy (emulator, PostgreSQL)", .timeLimit(.minutes(5)))
struct DbCopyTests {
    @Test("SQLite → PostgreSQL → SQLite keeps history and audit chain; a second copy changes nothing; a different target is refused")
    func roundTrip() async throws {
        let target = try ScratchPostgresDatabase(prefix: "refit_copy"), otherTarget = try ScratchPostgresDatabase(prefix: "refit_copy")
        let url = target.url, other = otherTarget.url

        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        let pipelinePath = "pipelines/retrain-pipeline.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T04:00:00Z""#))
        try folder.writeTrainingSlices(hours: 4)
        let environment = try demoEnvironment(emulator.info)
        let schedules = folder.root.path, sqlite = folder.database

        // A history with runs, steps, outputs, deployments, lineage, a pause and a backfill.
        let tick = try await refitOffPool("tick", "--schedules", schedules, "--db", sqlite, environment: environment)
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        for command in [["pause", "RetrainPipeline", "--reason", "maintenance"], ["resume", "RetrainPipeline"]] {
            let result = try await offPool { try runRefit(["--schedules", schedules, "--db", sqlite], command, environment) }
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        }
        let backfill = try await refitOffPool("backfill", "--schedules", schedules, "--db", sqlite, "--pipeline", "RetrainPipeline",
                                              "--activity", "Retrain", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T01:00:00Z",
                                              "--mode", "all", "--wait", "--reason", "re-train", environment: environment)
        #expect(backfill.exitCode == 0, "stderr: \(backfill.stderr)")
        let verified = try await verify(sqlite)

        // SQLite → PostgreSQL: every table, and the chain verifies there with the same tail.
        let toPostgres = try await refitOffPool("db", "copy", "--from", sqlite, "--to", url)
        #expect(toPostgres.exitCode == 0, "stderr: \(toPostgres.stderr)")
        let copied = Self.tallies(toPostgres.stdout)
        for table in ["definitions", "pipeline_controls", "slices", "windows", "watermarks", "activity_outputs", "runs", "steps",
                      "outputs", "deployments", "window_inputs", "run_inputs", "backfills", "backfill_windows", "events"] {
            #expect((copied[table]?.copied ?? 0) > 0 && copied[table]?.present == 0, "\(table): \(toPostgres.stdout)")
        }
        #expect(copied["events"]?.copied == verified.events)
        #expect(toPostgres.stdout.contains("tail hash \(verified.tailHash)"), "stdout: \(toPostgres.stdout)")
        let c = try PostgresConnection(url: url)
        let tail = try c.query("SELECT count(*) AS n, (SELECT hash FROM events ORDER BY id DESC LIMIT 1) AS h FROM events").first
        #expect(tail?.int("n") == verified.events && tail?.string("h") == verified.tailHash)
        // The sequences moved past the copied ids: a new window gets the next id, not a used one.
        let maxWindow = try c.query("SELECT max(id) AS m FROM windows").first?.int64("m") ?? 0
        let first = try #require(try c.query("SELECT activity, window_start, window_end FROM windows WHERE id = 1").first)
        let firstWindow = (activity: first.string("activity") ?? "", start: try #require(first.instant("window_start")),
                           end: try #require(first.instant("window_end")))
        #expect(try c.query("SELECT nextval(pg_get_serial_sequence('windows', 'id')) AS n").first?.int64("n") == maxWindow + 1)

        // PostgreSQL → a new SQLite file, and SQLite → SQLite: the same history, the same audit log.
        let back = folder.root.appendingPathComponent("back.sqlite").path
        let direct = folder.root.appendingPathComponent("direct.sqlite").path
        for (from, to) in [(url, back), (sqlite, direct)] {
            let copy = try await refitOffPool("db", "copy", "--from", from, "--to", to)
            #expect(copy.exitCode == 0, "stderr: \(copy.stderr)")
            #expect(try await verify(to) == verified)
        }
        for read in [["history", "--format", "json"], ["audit", "--format", "json"], ["slices", "--schedules", schedules,
                     "--pipeline", "RetrainPipeline", "--format", "json"], ["backfills", "--format", "json"],
                     ["lineage", "--schedules", schedules, "--pipeline", "RetrainPipeline", "--activity", "UpdateScoringEndpoint",
                      "--format", "json"]] {
            let original = try await offPool { try runRefit(["--db", sqlite], read, nil) }
            #expect(original.exitCode == 0 && original.stdout.count > 10, "\(read): \(original.stderr)")
            for copy in [back, direct] {
                let copied = try await offPool { try runRefit(["--db", copy], read, nil) }
                #expect(copied.stdout == original.stdout, "\(read) differs in \(copy)")
            }
        }

        // A second copy, either way, changes nothing.
        for (from, to) in [(sqlite, url), (url, back), (sqlite, back)] {
            let again = try await refitOffPool("db", "copy", "--from", from, "--to", to)
            #expect(again.exitCode == 0, "stderr: \(again.stderr)")
            #expect(Self.tallies(again.stdout).values.allSatisfy { $0.copied == 0 }, "stdout: \(again.stdout)")
            #expect(again.stdout.contains("Copied 0 rows"), "stdout: \(again.stdout)")
        }
        #expect(try c.query("SELECT count(*) AS n FROM events").first?.int("n") == verified.events)

        // A target with a history of its own is refused with one sentence and left as it was.
        let pause = try await refitOffPool("pause", "--schedules", schedules, "--db", other, "RetrainPipeline", environment: environment)
        #expect(pause.exitCode == 0, "stderr: \(pause.stderr)")
        let refused = try await refitOffPool("db", "copy", "--from", sqlite, "--to", other)
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.hasPrefix("The target holds different history") && refused.stderr.split(separator: "\n").count == 1,
                "stderr: \(refused.stderr)")
        let untouched = try PostgresConnection(url: other)
        #expect(try untouched.query("SELECT count(*) AS n FROM events").first?.int("n") == 1)
        #expect(try untouched.query("SELECT count(*) AS n FROM windows").first?.int("n") == 0)
        // A row under another id that a unique constraint refuses is named too (the first window, here under id 999999;
        // the pause row, which differs first, goes).
        try untouched.execute("DELETE FROM pipeline_controls")
        try untouched.execute("""
            INSERT INTO windows (id, pipeline, activity, window_start, window_end, updated_at)
            VALUES (999999, 'RetrainPipeline', $1, $2, $3, $3)
            """, [.text(firstWindow.activity), .timestamp(firstWindow.start), .timestamp(firstWindow.end)])
        let collides = try await refitOffPool("db", "copy", "--from", sqlite, "--to", other)
        #expect(collides.exitCode == 1 && collides.stderr.contains("windows row id=1 collides"), "stderr: \(collides.stderr)")
        #expect(try untouched.query("SELECT count(*) AS n FROM windows").first?.int("n") == 1)

        // The same on a SQLite target: a file holding that other history refuses the copy and keeps its one event.
        let otherFile = folder.root.appendingPathComponent("other.sqlite").path
        let seeded = try await refitOffPool("db", "copy", "--from", other, "--to", otherFile)
        #expect(seeded.exitCode == 0, "stderr: \(seeded.stderr)")
        let refusedFile = try await refitOffPool("db", "copy", "--from", sqlite, "--to", otherFile)
        #expect(refusedFile.exitCode == 1 && refusedFile.stderr.hasPrefix("The target holds different history"),
                "stderr: \(refusedFile.stderr)")
        #expect(try await verify(otherFile).events == 1)

        // A database from a newer Refit is refused with one sentence (exit 3), as source or target, and nothing is created.
        try untouched.execute("""
            INSERT INTO schema_migrations (version, name, sha256, applied_at)
            VALUES ((SELECT max(version) + 1 FROM schema_migrations), 'future', $1, now())
            """,
                              [.text(String(repeating: "0", count: 64))])
        let newer = folder.root.appendingPathComponent("newer.sqlite").path
        for (from, to, side) in [(other, newer, "--from"), (sqlite, other, "--to")] {
            let result = try await refitOffPool("db", "copy", "--from", from, "--to", to)
            #expect(result.exitCode == 3 && result.stderr.contains("newer Refit") && result.stderr.contains("use another \(side).")
                    && result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: newer))

        // The same database on both sides, and a missing source file, are invalid input.
        let same = try await refitOffPool("db", "copy", "--from", sqlite, "--to", sqlite)
        #expect(same.exitCode == 1 && same.stderr.contains("the same database"), "stderr: \(same.stderr)")
        let missing = try await refitOffPool("db", "copy", "--from", folder.root.appendingPathComponent("none.sqlite").path, "--to", back)
        #expect(missing.exitCode == 1 && missing.stderr.contains("does not exist"), "stderr: \(missing.stderr)")
    }

    @Test("an unreachable target: exit 3, one sentence without the password, no file written")
    func unreachableTarget() async throws {
        let folder = try ScratchSchedules()
        defer { folder.remove() }
        let sqlite = folder.root.appendingPathComponent("empty.sqlite").path
        try Data().write(to: URL(fileURLWithPath: sqlite))
        let copy = try await refitOffPool("db", "copy", "--from", sqlite, "--to", "postgres://refit:hunter2@127.0.0.1:1/refit")
        #expect(copy.exitCode == 3)
        #expect(copy.stderr.hasPrefix("Could not connect to PostgreSQL at postgres://refit@127.0.0.1:1/refit: "), "stderr: \(copy.stderr)")
        #expect(!copy.stderr.contains("hunter2"))
    }

    private struct Verified: Equatable, Decodable {
        var events: Int
        var tailHash: String
    }

    private func verify(_ database: String) async throws -> Verified {
        let result = try await refitOffPool("audit", "verify", "--db", database, "--format", "json")
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        return try JSONDecoder().decode(Verified.self, from: Data(result.stdout.utf8))
    }

    /// `table  N copied, M already present` lines of the copy's summary.
    private static func tallies(_ stdout: String) -> [String: (copied: Int, present: Int)] {
        var tallies: [String: (copied: Int, present: Int)] = [:]
        for line in stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 6, words[2] == "copied,", let copied = Int(words[1]), let present = Int(words[3]) else { continue }
            tallies[String(words[0])] = (copied, present)
        }
        return tallies
    }
}

/// `refit <command> <options…>`: the command's own words first, then the shared options.
private func runRefit(_ options: [String], _ command: [String], _ environment: [String: String]?) throws -> ProcessResult {
    try runProcess(BuiltProducts.executable("refit"), [command[0]] + options + command.dropFirst(), environment: environment,
                   currentDirectory: BuiltProducts.packageRoot)
}
