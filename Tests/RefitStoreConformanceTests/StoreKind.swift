import Foundation
import RefitCore
import RefitStore
import RefitTestKit
import Testing

/// The `SchedulingStore` implementations the conformance suite runs against. Every test takes
/// a kind as its argument and builds a fresh, empty store with `make()`, so the same scenario
/// checks every implementation. A new implementation (say PostgreSQL) adds a case here, its
/// construction in `make()`, and a `StoreInspector` for the few things the protocol does not
/// expose (pausing a pipeline, reading run history and slices).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case inMemory

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
        default:
            return (fixture, Array(repeating: fixture.store, count: count))
        }
    }
}
