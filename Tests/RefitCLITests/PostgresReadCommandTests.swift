import Foundation
import RefitCore
import RefitPostgres
import RefitTestKit
import Testing

/// The read commands on PostgreSQL (`status`, `history`, `show`, `slices`, `lineage`, `backfills`,
/// `audit list`, `audit verify`, `report`, `metrics`):
/// the same scenario ticked into a SQLite file and into a PostgreSQL database reads back as the
/// same JSON, apart from run ids, times and hashes.
@Suite("read commands on PostgreSQL (emulator)", .timeLimit(.minutes(5)))
struct PostgresReadCommandTests {
    @Test("status, history, show, slices, lineage, backfills and audit read PostgreSQL as they read SQLite; audit verify detects an edited event")
    func readCommandsMatchSQLite() async throws {
        let database = try ScratchPostgresDatabase(prefix: "refit_read")
        let url = database.url

        let scenario = try await TickedScenario(postgres: url)
        defer { scenario.stop() }
        let folder = scenario.folder, environment = scenario.environment
        let databases = [folder.database, url]

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

    @Test("report and metrics read PostgreSQL as they read SQLite: the same counts, cells and families")
    func reportAndMetricsMatchSQLite() async throws {
        let database = try ScratchPostgresDatabase(prefix: "refit_report")
        let url = database.url
        let scenario = try await TickedScenario(postgres: url)
        defer { scenario.stop() }
        let folder = scenario.folder, environment = scenario.environment
        // The password never shows: not in the page's "database" label, not in a message.
        let withPassword = url.replacingOccurrences(of: "postgres://refit@", with: "postgres://refit:hunter2@")
        var redacted = try #require(URLComponents(string: url))
        redacted.password = nil
        redacted.query = nil
        let shownURL = try #require(redacted.string)

        // `report --format json`: the same counts from both stores (the output path aside).
        var summaries: [String] = [], pages: [ReportDOM] = []
        for (index, db) in [folder.database, withPassword].enumerated() {
            let out = folder.root.appendingPathComponent("report-\(index).html").path
            let result = try await refitOffPool("report", "--schedules", folder.root.path, "--db", db, "--out", out, "--format", "json",
                                                environment: environment)
            #expect(result.exitCode == 0, "\(db): \(result.stderr)")
            var summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(summary["out"] as? String == out)
            summary["out"] = nil
            summaries.append(Self.normalized(summary, unordered: false))
            pages.append(ReportDOM(html: try String(contentsOfFile: out, encoding: .utf8)))
        }
        #expect(summaries[0] == summaries[1], "SQLite:     \(summaries[0])\nPostgreSQL: \(summaries[1])")
        #expect(summaries[1].contains(#""windows":2"#) && summaries[1].contains(#""deployments":1"#)
                && summaries[1].contains(#""evaluatedWindows":1"#) && summaries[1].contains(#""empty":null"#), "\(summaries[1])")

        // With a pipeline and a range (the pipeline's inputs only), and a range without windows.
        for filters in [["--pipeline", "RetrainPipeline", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T01:00:00Z"],
                        ["--from", "2027-01-01T00:00:00Z", "--to", "2027-01-02T00:00:00Z"]] {
            var filtered: [String] = []
            for db in [folder.database, url] {
                let out = folder.root.appendingPathComponent("filtered.html").path
                let result = try await offPool {
                    try refit(["report", "--schedules", folder.root.path, "--db", db, "--out", out, "--format", "json"] + filters,
                              environment: environment)
                }
                #expect(result.exitCode == 0, "\(filters) \(db): \(result.stderr)")
                var summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
                summary["out"] = nil
                filtered.append(Self.normalized(summary, unordered: false))
            }
            #expect(filtered[0] == filtered[1], "\(filters)\nSQLite:     \(filtered[0])\nPostgreSQL: \(filtered[1])")
        }

        // The HTML: the same grid cells (kind, place, state), deployments, plot points and
        // failures; and the same details embedded for each cell, apart from ids and times.
        func cells(_ dom: ReportDOM) -> [String] {
            dom.cells.map { cell in
                ["data-kind", "data-pipeline", "data-activity", "data-dataset", "data-window-start", "data-window-end", "data-state",
                 "data-substate", "style"].map { "\($0)=\(cell[$0] ?? "-")" }.joined(separator: " ")
            }.sorted()
        }
        let (sqlitePage, postgresPage) = (pages[0], pages[1])
        #expect(!cells(postgresPage).isEmpty)
        #expect(cells(sqlitePage) == cells(postgresPage), "SQLite:     \(cells(sqlitePage))\nPostgreSQL: \(cells(postgresPage))")
        for (tag, className) in [("rect", "deployment"), ("circle", "point"), ("tr", "failure"), ("li", "legend-item")] {
            #expect(sqlitePage.elements(tag, class: className).count == postgresPage.elements(tag, class: className).count, "\(tag).\(className)")
        }
        #expect(postgresPage.elements("rect", class: "deployment").count == 1)
        for metric in ["rmse", "mae", "r2"] {
            let plot = try #require(postgresPage.svg("data-metric", metric), "a plot of \(metric) from PostgreSQL")
            #expect(postgresPage.elements("circle", class: "point", in: plot).count == 1, "\(metric)")
        }
        #expect(try Self.embeddedCells(sqlitePage) == Self.embeddedCells(postgresPage))
        let label = try #require(postgresPage.html.range(of: "database <code>"))
        let shown = postgresPage.html[label.upperBound...].prefix { $0 != "<" }
        #expect(String(shown) == shownURL, "the page names the server by its URL without the password: \(shown)")
        #expect(!postgresPage.html.contains("hunter2"))
        #expect(sqlitePage.html.contains("database <code>refit.sqlite</code>"))

        // An unknown pipeline: one sentence naming the server without its password, exit 1.
        let unknown = try await refitOffPool("report", "--db", withPassword, "--pipeline", "Nope", "--out",
                                             folder.root.appendingPathComponent("nope.html").path, environment: environment)
        #expect(unknown.exitCode == 1 && unknown.stderr.contains("No pipeline named 'Nope' in \(shownURL);"), "stderr: \(unknown.stderr)")
        #expect(!unknown.stderr.contains("hunter2"))

        // `metrics`: both parse, with the same database families (the serving age, which moves
        // with the clock, by its labels only).
        var families: [[String: ParsedFamily]] = []
        for db in [folder.database, withPassword] {
            let result = try await refitOffPool("metrics", "--schedules", folder.root.path, "--db", db, environment: environment)
            #expect(result.exitCode == 0, "\(db): \(result.stderr)")
            #expect(!result.stdout.contains("hunter2"))
            families.append(try await parseWithPrometheusClient(result.stdout, in: folder))
        }
        func samples(_ name: String, _ parsed: [String: ParsedFamily], values: Bool = true) -> [String] {
            (parsed[name]?.samples ?? []).map { sample in
                "\(sample.name){\(sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))}"
                    + (values ? " \(sample.value)" : "")
            }.sorted()
        }
        for name in ["refit_windows", "refit_history_attempts", "refit_history_deployments"] {
            #expect(families[1][name]?.type == "gauge", "\(name) in \(families[1].keys.sorted())")
            #expect(!samples(name, families[1]).isEmpty, "\(name)")
            #expect(samples(name, families[0]) == samples(name, families[1]),
                    "\(name)\nSQLite:     \(samples(name, families[0]))\nPostgreSQL: \(samples(name, families[1]))")
        }
        #expect(samples("refit_serving_window_age_seconds", families[0], values: false)
                == samples("refit_serving_window_age_seconds", families[1], values: false))
        #expect(samples("refit_serving_window_age_seconds", families[1], values: false).count == 1)
        #expect(families[1]["refit_windows"]?.samples.count == 2 * 5, "two activities × five states")
        #expect(families[1]["refit_history_deployments"]?.samples.contains { $0.labels["kind"] == "deploy" && $0.value == 1 } == true)
    }

    @Test("a read command never migrates: a database without Refit's schema is refused (exit 3) and left empty")
    func readCommandsDoNotMigrate() async throws {
        let database = try ScratchPostgresDatabase(prefix: "refit_empty")
        let url = database.url
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("refit-report-\(UUID().uuidString).html").path
        for arguments in [["history"], ["audit", "verify"], ["backfills"], ["metrics"], ["report", "--out", out]] {
            let result = try await offPool { try refit(arguments + ["--db", url]) }
            #expect(result.exitCode == 3, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("is not a Refit database"), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out), "no report is written from a database that is not Refit's")
        let tables = try PostgresConnection(url: url).query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")
        #expect(tables.first?.int("n") == 0)
    }

    /// The details `report` embeds for its grid cells (`#refit-data`), without their ids and
    /// with the values that differ between two runs of the scenario blanked, in a stable order.
    static func embeddedCells(_ dom: ReportDOM) throws -> [String] {
        let start = try #require(dom.html.range(of: #"<script type="application/json" id="refit-data">"#))
        let end = try #require(dom.html[start.upperBound...].range(of: "</script>"))
        let data = try #require(try JSONSerialization.jsonObject(with: Data(dom.html[start.upperBound..<end.lowerBound].utf8)) as? [String: Any])
        let cells = try #require(data["cells"] as? [String: Any])
        return cells.values.map { normalized($0, unordered: true, alsoVolatile: ["updatedAt", "jobId"]) }.sorted()
    }

    /// Keys whose values differ between two runs of the same scenario (ids, clocks, hashes, the
    /// workers' names, event ids, which follow the order concurrent attempts finished in) or
    /// embed them (an event's detail, a journal step's documents).
    static let volatile: Set<String> = [
        "id", "runId", "startedAt", "endedAt", "at", "hash", "generatedAt", "since", "ageSeconds", "leaseExpiresAt", "workerId",
        "externalJobId", "detail", "intent", "result", "resumedFromRunId", "dueAt", "model", "deployRunId", "deployedAt", "createdAt", "fingerprint",
    ]

    /// The document with volatile values (and those named in `alsoVolatile`) blanked, rendered
    /// canonically; `unordered` also sorts arrays (rows whose order depends on which attempt
    /// claimed first).
    static func normalized(_ value: Any, unordered: Bool, alsoVolatile: Set<String> = []) -> String {
        func walk(_ value: Any) -> Any {
            if let object = value as? [String: Any] {
                return object.reduce(into: [String: Any]()) { result, field in
                    result[field.key] = volatile.contains(field.key) || alsoVolatile.contains(field.key) ? "~" : walk(field.value)
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

/// The example pipeline cut to one hour (one window per activity: with more, whether an update
/// is superseded depends on which attempt finishes first, and the two stores' histories could
/// differ for that alone), ticked against the emulator into a SQLite file and into PostgreSQL.
struct TickedScenario {
    let emulator: EmulatorProcess
    let folder: ScratchSchedules
    let environment: [String: String]

    init(postgres url: String) async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        let folder: ScratchSchedules
        do {
            folder = try ScratchSchedules.example()
        } catch {
            await emulator.stop()
            throw error
        }
        self.emulator = emulator
        self.folder = folder
        do {
            let pipelinePath = "pipelines/retrain-pipeline.json"
            let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
            try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                         with: #""end": "2026-01-01T01:00:00Z""#))
            try folder.writeTrainingSlices(hours: 1)
            environment = try demoEnvironment(emulator.info)
        } catch {
            await emulator.stop()
            folder.remove()
            throw error
        }
        do {
            for db in [folder.database, url] {
                let tick = try await refitOffPool("tick", "--schedules", folder.root.path, "--db", db, environment: environment)
                #expect(tick.exitCode == 0, "stderr: \(tick.stderr.suffix(800))")
            }
        } catch {
            stop()
            throw error
        }
    }

    /// Stops the emulator and removes the folder.
    func stop() {
        emulator.stop()
        folder.remove()
    }
}
