import Foundation
import RefitCore
import RefitPostgres
import RefitStore
import RefitTestKit
import Testing

/// The `SchedulingStore` implementations the conformance suite runs against. Every test takes
/// a kind as its argument and builds a fresh, empty store with `make()`, so the same scenario
/// checks every implementation. A new implementation (say PostgreSQL) adds a case here, its
/// construction in `make()`, and a `StoreInspector` for the few things the protocol does not
/// expose (pausing a pipeline, reading run history and slices).
///
/// `.postgres` runs on a fresh database of the tests' PostgreSQL server (`REFIT_TEST_PG_URL`,
/// or a private server started once per test process; see `PostgresTestServer`). Its leases
/// follow the caller's clock here, as the scenarios drive time by hand; the server's clock is
/// checked by `PostgresLeaseClockTests`.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case inMemory
    case postgres

    var testDescription: String { rawValue }

    /// A fresh empty store of this kind.
    func make() throws -> StoreFixture {
        switch self {
        case .sqlite:
            let folder = try TemporaryDirectory()
            let store = try Store.open(path: folder.path("refit.sqlite"))
            return StoreFixture(kind: self, store: SQLiteSchedulingStore(store),
                                inspector: SQLiteInspector(store: store, folder: folder))
        case .inMemory:
            let store = InMemorySchedulingStore()
            return StoreFixture(kind: self, store: store, inspector: InMemoryInspector(store: store))
        case .postgres:
            let database = try PostgresTestDatabase()
            let store = try PostgresSchedulingStore.open(url: database.url, leaseClock: .caller)
            return StoreFixture(kind: self, store: store, inspector: PostgresInspector(store: store, database: database))
        }
    }

    /// A fresh store and `count` more handles on the same data, as separate worker processes
    /// would hold (another connection to the same SQLite file; the same in-memory store). A new
    /// kind whose data lives outside the process (PostgreSQL) opens more connections here too.
    func makeShared(_ count: Int) throws -> (StoreFixture, [any SchedulingStore]) {
        let fixture = try make()
        switch fixture.inspector {
        case let sqlite as SQLiteInspector:
            let path = sqlite.folder.path("refit.sqlite")
            return (fixture, try (0..<count).map { _ in SQLiteSchedulingStore(try Store.open(path: path)) })
        case let postgres as PostgresInspector:
            let url = postgres.database.url
            return (fixture, try (0..<count).map { _ in try PostgresSchedulingStore.open(url: url, leaseClock: .caller) })
        default:
            return (fixture, Array(repeating: fixture.store, count: count))
        }
    }
}
