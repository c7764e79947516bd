import Foundation
import RefitCore
@testable import RefitStore
import Testing

struct MigrationTests {
    /// Fake later migrations, to play a newer Refit.
    static func future(upTo version: Int) -> [Migration] {
        Migration.all + (Migration.latestVersion + 1 ... max(Migration.latestVersion + 1, version)).map {
            Migration(version: $0, name: "future_\($0)", sql: "CREATE TABLE future_\($0) (x INTEGER) STRICT;\n")
        }
    }

    static func fixedDate(_ text: String) -> () -> Date {
        { StoreTimestamp.date(from: text) ?? Date(timeIntervalSince1970: 0) }
    }

    @Test func freshDatabaseGetsEveryMigration() throws {
        let folder = try TemporaryDirectory()
        let store = try Store.open(path: folder.path("refit.sqlite"))
        #expect(try store.currentVersion == Migration.latestVersion)
        let applied = try store.appliedMigrations()
        #expect(applied.map(\.version) == Migration.all.map(\.version))
        #expect(applied.map(\.name) == Migration.all.map(\.name))
        #expect(applied.map(\.sha256) == Migration.all.map(\.sha256))
        let userVersion = try store.database.query("PRAGMA user_version").first?[0]?.intValue
        #expect(userVersion == Migration.latestVersion)
        let tables = try Set(store.database.query("SELECT name FROM sqlite_schema WHERE type = 'table'")
            .compactMap { $0.string("name") })
        let expected: Set = ["schema_migrations", "definitions", "pipeline_controls", "slices", "windows",
                             "watermarks", "runs", "steps", "outputs", "deployments", "events"]
        #expect(expected.isSubset(of: tables))
    }

    /// Several workers starting at once on a new database: each open waits for the others
    /// (switching the new file to WAL answers SQLITE_BUSY without the busy handler) and succeeds.
    @Test func simultaneousOpensOfANewDatabaseAllSucceed() throws {
        let folder = try TemporaryDirectory()
        for round in 0..<10 {
            let path = folder.path("refit-\(round).sqlite")
            let failures = LockedStrings()
            let threads = 6
            let done = DispatchSemaphore(value: 0)
            let start = DispatchSemaphore(value: 0)
            for _ in 0..<threads {
                Thread {
                    start.wait()
                    do { _ = try Store.open(path: path) } catch { failures.append("\(error)") }
                    done.signal()
                }.start()
            }
            for _ in 0..<threads { start.signal() }
            for _ in 0..<threads { done.wait() }
            #expect(failures.values.isEmpty, "round \(round): \(failures.values)")
            #expect(try Store.open(path: path).currentVersion == Migration.latestVersion)
        }
    }

    @Test func reopeningIsANoOp() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        let first = try Store.open(path: path, migrations: Migration.all, now: Self.fixedDate("2024-01-01T00:00:00Z"))
        let appliedBefore = try first.appliedMigrations()
        let schemaBefore = try first.database.query("SELECT type, name, sql FROM sqlite_schema ORDER BY name")
        let second = try Store.open(path: path, migrations: Migration.all, now: Self.fixedDate("2030-06-06T06:06:06Z"))
        #expect(try second.appliedMigrations() == appliedBefore)
        #expect(appliedBefore.allSatisfy { $0.appliedAt == "2024-01-01T00:00:00Z" })
        #expect(try second.database.query("SELECT type, name, sql FROM sqlite_schema ORDER BY name") == schemaBefore)
    }

    @Test func olderDatabaseIsUpgradedInOrder() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        _ = try Store.open(path: path, migrations: Migration.all)
        let newer = try Store.open(path: path, migrations: Self.future(upTo: Migration.latestVersion + 2))
        #expect(try newer.currentVersion == Migration.latestVersion + 2)
        #expect(try newer.appliedMigrations().map(\.version) == Array(1...(Migration.latestVersion + 2)))
    }

    @Test func newerDatabaseIsRefused() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        let future = Migration.latestVersion + 1
        _ = try Store.open(path: path, migrations: Self.future(upTo: future))
        let error = #expect(throws: StoreError.self) { try Store.open(path: path) }
        #expect(error?.code == .newerSchema)
        #expect(error?.message == "\(path) was written by a newer Refit (schema version \(future); this Refit knows up to \(Migration.latestVersion)); upgrade Refit or use another --db.")
        // Refusing changed nothing.
        let reopened = try Store.open(path: path, migrations: Self.future(upTo: future))
        #expect(try reopened.currentVersion == future)
    }

    @Test func newerUserVersionAloneIsRefused() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA user_version = \(Migration.latestVersion + 1)")
        let error = #expect(throws: StoreError.self) { try Store.open(path: path) }
        #expect(error?.code == .newerSchema)
    }

    @Test func editedAppliedMigrationIsRefused() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        _ = try Store.open(path: path)
        let edited = Migration.all.map { migration in
            migration.version == 1
                ? Migration(version: 1, name: migration.name, sql: migration.sql + "-- a quiet edit\n") : migration
        }
        let error = #expect(throws: StoreError.self) { try Store.open(path: path, migrations: edited) }
        #expect(error?.code == .migrationFailed)
        #expect(error?.message.contains("0001_\(Migration.all[0].name).sql") == true)
        #expect(error?.message.contains("must never be edited") == true)
    }

    @Test func failingMigrationRollsBackAndKeepsTheVersion() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        _ = try Store.open(path: path)
        let broken = Migration.all + [
            Migration(version: Migration.latestVersion + 1, name: "broken",
                      sql: "CREATE TABLE half_done (x INTEGER) STRICT;\nINSERT INTO no_such_table VALUES (1);\n"),
        ]
        let error = #expect(throws: StoreError.self) { try Store.open(path: path, migrations: broken) }
        #expect(error?.code == .migrationFailed)
        #expect(error?.message.contains("no such table: no_such_table") == true)
        let store = try Store.open(path: path)
        #expect(try store.currentVersion == Migration.latestVersion)
        #expect(try store.database.query("SELECT name FROM sqlite_schema WHERE name = 'half_done'").isEmpty)
    }

    @Test func migrationSequenceMustHaveNoGaps() {
        let gap = [Migration(version: 1, name: "a", sql: ""), Migration(version: 3, name: "c", sql: "")]
        let error = #expect(throws: StoreError.self) { try Migrator(migrations: gap) }
        #expect(error?.code == .migrationFailed)
    }

    @Test func foreignDatabaseIsNotTouched() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("other.sqlite")
        let other = try SQLiteDatabase(path: path)
        try other.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
        let error = #expect(throws: StoreError.self) { try Store.open(path: path) }
        #expect(error?.code == .cannotOpen)
        #expect(try other.query("SELECT name FROM sqlite_schema WHERE name = 'schema_migrations'").isEmpty)
    }

    /// Version 11 rewrote every CHECK of the form `x IN (three or more constants)` as an OR of
    /// equalities: SQLite builds a temporary table for such a list once per written row. The
    /// rewrite must keep every constraint's meaning, keep the rows of an upgraded database, and
    /// leave no write to the scheduling tables that opens a temporary table.
    @Test func checkConstraintsNeedNoTemporaryTables() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        let old = try Store.open(path: path, migrations: Array(Migration.all.prefix(10)))
        try old.database.execute("""
            INSERT INTO windows (pipeline, activity, window_start, window_end, updated_at)
            VALUES ('p', 'a', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T00:00:00Z')
            """)
        let store = try Store.open(path: path)
        #expect(try store.currentVersion == Migration.latestVersion)
        #expect(try store.database.query("PRAGMA integrity_check").first?[0]?.stringValue == "ok")

        // No table keeps a list of three or more constants.
        let list = try Regex(#"\bIN\s*\(\s*'[^']*'\s*,\s*'[^']*'\s*,"#)
        for row in try store.database.query("SELECT name, sql FROM sqlite_schema WHERE type = 'table'") {
            let sql = row.string("sql") ?? ""
            #expect(sql.firstMatch(of: list) == nil, "\(row.string("name") ?? "?") still checks an IN list")
        }

        // Each rewritten expression accepts exactly what the old one did: every listed value,
        // and neither a value outside the list nor a different case; NULL passes both.
        let migration = try #require(Migration.all.first { $0.version == 11 })
        let pair = try Regex(#"\n    '((?:[^']|'')*)',\n    '((?:[^']|'')*)'\)"#)
        let pairs = migration.sql.matches(of: pair).map { match in
            (String(match.output[1].substring ?? "").replacingOccurrences(of: "''", with: "'"),
             String(match.output[2].substring ?? "").replacingOccurrences(of: "''", with: "'"))
        }
        #expect(pairs.count == 10)
        let constant = try Regex(#"'([^']*)'"#)
        for (before, after) in pairs {
            let column = String(before.prefix { $0 != " " })
            let listed = before.matches(of: constant).map { String($0.output[1].substring ?? "") }
            #expect(listed.count >= 3)
            let probes: [SQLiteValue] = listed.map { .text($0) } + listed.map { .text($0.uppercased()) }
                + [.text("Bogus"), .text(""), .null]
            for probe in probes {
                let row = try #require(try store.database.query(
                    "SELECT (\(before)) AS before, (\(after)) AS after FROM (SELECT ? AS \(column))", [probe]).first)
                #expect(row[0] == row[1], "\(column) = \(probe): \(before) gives \(String(describing: row[0])), \(after) gives \(String(describing: row[1]))")
            }
            #expect(try !store.database.query("SELECT name FROM sqlite_schema WHERE instr(sql, ?) > 0", [.text(after)]).isEmpty,
                    "the schema does not hold \(after)")
        }

        // The constraints still hold, on the row that was there before the upgrade too.
        let refused = #expect(throws: StoreError.self) { try store.database.execute("UPDATE windows SET state = 'Bogus'") }
        #expect(refused?.message.contains("CHECK constraint failed") == true)
        #expect(try store.database.execute("UPDATE windows SET state = 'Ready', next_trigger = 'rerun'") == 1)

        // The writes of a claim, a finish, a journal step and a slice check build no table.
        for write in [
            "UPDATE windows SET state = 'x', substate = 'x', next_trigger = 'x' WHERE id = 1",
            "UPDATE runs SET status = 'x', \"trigger\" = 'x' WHERE run_id = 'x'",
            "INSERT INTO steps (run_id, seq, name, state, intent, started_at) VALUES ('x', 1, 'x', 'x', '{}', 'x')",
            "UPDATE steps SET state = 'x' WHERE run_id = 'x' AND name = 'x'",
            "UPDATE slices SET state = 'x', substate = 'x' WHERE id = 1",
        ] {
            let opcodes = try store.database.query("EXPLAIN " + write).compactMap { $0.string("opcode") }
            #expect(!opcodes.isEmpty)
            #expect(!opcodes.contains("OpenEphemeral"), "\(write) builds a temporary table")
        }
    }

    /// The binary's embedded copy must equal `migrations/` byte for byte (run `make migrations`).
    @Test func embeddedMigrationsEqualTheFolder() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)
        #expect(files == Migration.all.map(\.fileName), "run `make migrations` and commit the result")
        for (file, migration) in zip(files, Migration.all) {
            let onDisk = try Data(contentsOf: folder.appendingPathComponent(file))
            #expect(onDisk == Data(migration.sql.utf8), "\(file) differs from its embedded copy; run `make migrations`")
            #expect(migration.sha256 == SHA256.hex(migration.sql), "\(file)'s embedded hash is not its text's; run `make migrations`")
            #expect(Int(file.prefix(4)) == migration.version)
        }
    }
}

final class LockedStrings: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ value: String) { lock.withLock { items.append(value) } }
    var values: [String] { lock.withLock { items } }
}
