import Foundation
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
