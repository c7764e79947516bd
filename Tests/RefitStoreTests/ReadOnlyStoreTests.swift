import Foundation
@testable import RefitStore
import Testing

/// `Store.openReadOnly`: reads without writing, and refuses a schema it was not built for.
struct ReadOnlyStoreTests {
    @Test func readsWithoutWritingAndRefusesWrites() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        let writer = try Store.open(path: path)
        _ = try AuditLogTests.appendSome(writer, count: 3)
        let reader = try Store.openReadOnly(path: path)
        #expect(try AuditRepository(reader).events().count == 3)
        let refused = #expect(throws: StoreError.self) {
            try reader.database.execute("INSERT INTO pipeline_controls (pipeline, updated_at) VALUES ('p', '2026-01-01T00:00:00Z')")
        }
        #expect(refused != nil)
        #expect(throws: StoreError.self) { try Store.openReadOnly(path: folder.path("absent.sqlite")) }
        #expect(!FileManager.default.fileExists(atPath: folder.path("absent.sqlite")))
    }

    @Test func refusesOlderAndNewerSchemasWithoutMigrating() throws {
        let folder = try TemporaryDirectory()
        let older = folder.path("older.sqlite")
        _ = try Store.open(path: older, migrations: Array(Migration.all.dropLast()))
        let olderError = #expect(throws: StoreError.self) { try Store.openReadOnly(path: older) }
        #expect(olderError?.message.contains("schema version \(Migration.latestVersion - 1)") == true)
        #expect(try Store.open(path: older, migrations: Array(Migration.all.dropLast())).currentVersion == Migration.latestVersion - 1)

        let newer = folder.path("newer.sqlite")
        _ = try Store.open(path: newer, migrations: MigrationTests.future(upTo: Migration.latestVersion + 1))
        let newerError = #expect(throws: StoreError.self) { try Store.openReadOnly(path: newer) }
        #expect(newerError?.code == .newerSchema)
    }

    @Test func verifyFindsTheExpectedTailAndCountsWhatFollows() throws {
        let store = try Store.open(path: ":memory:")
        let events = try AuditLogTests.appendSome(store, count: 5)
        let audit = AuditRepository(store)
        let intact = try audit.verify()
        #expect(intact.isIntact && intact.count == 5 && intact.tailHash == events[4].hash && intact.eventsAfterExpectedTail == nil)
        #expect(try audit.verify(expectedTail: events[4].hash).eventsAfterExpectedTail == 0)
        #expect(try audit.verify(expectedTail: events[1].hash.uppercased()).eventsAfterExpectedTail == 3)
        #expect(try audit.verify(expectedTail: String(repeating: "a", count: 64)).eventsAfterExpectedTail == nil)
        try store.database.execute("DROP TRIGGER events_no_update")
        try store.database.execute(#"UPDATE events SET kind = 'forged' WHERE id = 4"#)
        let broken = try audit.verify()
        #expect(broken.firstBrokenID == 4 && broken.count == 3)
    }
}
