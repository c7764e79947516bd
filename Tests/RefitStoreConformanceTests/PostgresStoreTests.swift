import Foundation
import RefitCore
@testable import RefitPostgres
import RefitStore
import Testing

/// What only the PostgreSQL store has: the server's lease clock, NOTIFY, migrations in
/// `migrations/postgres/`, reconnecting, and connection errors without passwords.
@Suite("PostgreSQL store")
struct PostgresStoreTests {
    typealias S = Scenario

    /// A store on a fresh database, with the database kept alive by the caller.
    static func store(leaseClock: LeaseClock = .database) throws -> (PostgresSchedulingStore, PostgresTestDatabase) {
        let database = try PostgresTestDatabase()
        return (try PostgresSchedulingStore.open(url: database.url, leaseClock: leaseClock), database)
    }

    static func wallNow() -> Instant { Instant(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }

    @Test("a host whose clock runs an hour ahead cannot recover a live lease; the server's clock expires it")
    func serverClockLeases() async throws {
        let (store, database) = try Self.store()
        _ = database
        let f = StoreFixture(kind: .postgres, store: store, inspector: PostgresInspector(store: store, database: database))
        let records = try await f.runnable(S.train, hours: 0..<2, outputs: ["Model"])
        let hostNow = Self.wallNow()
        _ = try #require(try await f.claim(records[0].id, run: "live", worker: "w1", lease: .minutes(5), now: hostNow))
        _ = try #require(try await f.claim(records[1].id, run: "short", worker: "w1", lease: TimeSpan(seconds: 5), now: hostNow))
        // The skewed host sees both leases as long expired by its own clock.
        #expect(try await store.recoverExpiredLeases(now: hostNow + .hours(1)) { _ in S.once }.isEmpty)
        try await Task.sleep(for: .milliseconds(6_100))
        // Once the server's clock passes the short lease, even a host an hour behind recovers it.
        let recovered = try await store.recoverExpiredLeases(now: hostNow - .hours(1)) { _ in S.once }
        #expect(recovered.map(\.id) == [records[1].id])
        #expect(try await f.record(S.train, 0).status == .inProgress)
        // Renewing extends by the asked duration from the server's now, whatever the host's clock says.
        #expect(try await store.renewLease(windowID: records[0].id, workerID: "w1", until: hostNow + .hours(5), now: hostNow + .hours(4)))
        #expect(try await store.recoverExpiredLeases(now: hostNow + .hours(3)) { _ in S.once }.isEmpty)
    }

    @Test("another connection's write moves the change token; our own, and writes that change nothing, do not")
    func changeToken() async throws {
        let (store, database) = try Self.store(leaseClock: .caller)
        let other = try PostgresSchedulingStore.open(url: database.url, leaseClock: .caller)
        let before = try await store.changeToken()
        _ = try await store.materialize(S.train, windows: [NewWindow(window: S.hour(0), dueAt: S.hour(0).end, trigger: .schedule)],
                                        until: S.hour(0).end, outputs: [], definitionSHA256: S.sha, budget: S.once, now: S.now)
        #expect(try await store.changeToken() == before)
        // A write transaction that changes nothing (a claim of a window that does not exist) is silent.
        _ = try await other.claim(ClaimRequest(windowID: 999, workerID: "w2", runID: "none", leaseDuration: .minutes(5), concurrency: 1,
                                               budget: S.once, definitionSHA256: S.sha), now: S.now)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await store.changeToken() == before)
        _ = try await other.materialize(S.train, windows: [NewWindow(window: S.hour(1), dueAt: S.hour(1).end, trigger: .schedule)],
                                        until: S.hour(1).end, outputs: [], definitionSHA256: S.sha, budget: S.once, now: S.now)
        var moved = false
        for _ in 0..<50 where !moved {
            moved = try await store.changeToken() != before
            if !moved { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(moved)
    }

    @Test("a connection killed by the server is reset and the call succeeds")
    func reconnects() async throws {
        let (store, database) = try Self.store(leaseClock: .caller)
        _ = try await store.runningCounts()
        let pid = try store.database.readNow { $0.backendPID }
        let admin = try PostgresConnection(url: database.url)
        try admin.execute("SELECT pg_terminate_backend($1::int)", [.integer(Int64(pid))])
        #expect(try await store.runningCounts().isEmpty)
        let materialized = try await store.materialize(S.train, windows: [NewWindow(window: S.hour(0), dueAt: S.hour(0).end, trigger: .schedule)],
                                                       until: S.hour(0).end, outputs: [], definitionSHA256: S.sha, budget: S.once, now: S.now)
        #expect(materialized == 1)
        #expect(try store.database.readNow { $0.backendPID } != pid)
    }

    @Test("a transaction whose connection dies before COMMIT is rolled back and run again from the start")
    func retriesBeforeCommit() async throws {
        let (store, database) = try Self.store(leaseClock: .caller)
        _ = database
        let attempts = AttemptCounter()
        try store.database.writeNow { c in
            try c.execute("INSERT INTO pipeline_controls (pipeline, paused, updated_at) VALUES ($1, 1, now())", [.text("P\(attempts.next())")])
            // The first time, the server ends this session mid-transaction (as a failover would).
            if attempts.count == 1 { try c.execute("SELECT pg_terminate_backend(pg_backend_pid())") }
        }
        #expect(attempts.count == 2)
        // Only the second run committed: the first one's insert was rolled back with its session.
        #expect(try await store.pausedPipelines() == ["P2"])
    }

    final class AttemptCounter: @unchecked Sendable {
        private(set) var count = 0
        func next() -> Int { count += 1; return count }
    }

    @Test("connection errors are one sentence that never contains the password")
    func connectionErrors() throws {
        let error = #expect(throws: StoreError.self) {
            _ = try PostgresConnection(url: "postgres://refit:s3cret-pw@127.0.0.1:1/refit?connect_timeout=2")
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("s3cret-pw") == false)
        #expect(error?.message.hasPrefix("Could not connect to PostgreSQL at postgres://refit@127.0.0.1:1/refit:") == true)
    }

    @Test("a database from a newer Refit, or with an edited migration, is refused")
    func migrations() throws {
        let (store, database) = try Self.store(leaseClock: .caller)
        #expect(try store.database.readNow { try PostgresMigrator.applied($0) }.map(\.version) == Array(1...PostgresMigrator.all.count))
        let admin = try PostgresConnection(url: database.url)
        try admin.execute("INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES ($1, 'future', $2, now())",
                          [.integer(Int64(PostgresMigrator.all.count + 1)), .text(String(repeating: "0", count: 64))])
        let newer = #expect(throws: StoreError.self) { _ = try PostgresSchedulingStore.open(url: database.url) }
        #expect(newer?.code == .newerSchema)
        try admin.execute("DELETE FROM schema_migrations WHERE version = $1", [.integer(Int64(PostgresMigrator.all.count + 1))])
        try admin.execute("UPDATE schema_migrations SET sha256 = $1 WHERE version = 2", [.text(String(repeating: "1", count: 64))])
        let edited = #expect(throws: StoreError.self) { _ = try PostgresSchedulingStore.open(url: database.url) }
        #expect(edited?.code == .migrationFailed)
    }

    /// The binary's embedded copy must equal `migrations/postgres/` byte for byte (run `make migrations`).
    @Test func embeddedMigrationsEqualTheFolder() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("migrations/postgres")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == PostgresMigrator.all.map(\.fileName), "run `make migrations` and commit the result")
        for (file, migration) in zip(files, PostgresMigrator.all) {
            #expect(try Data(contentsOf: folder.appendingPathComponent(file)) == Data(migration.sql.utf8))
            #expect(migration.sha256 == SHA256.hex(migration.sql), "\(file)'s embedded hash is not its text's; run `make migrations`")
        }
        // The same versions and names as the SQLite migrations.
        let sqlite = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("migrations").path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == sqlite)
    }
}
