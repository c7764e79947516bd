import Foundation
import RefitCore
@testable import RefitStore
import Testing

/// Plans of the statements whose cost must not grow with the history. SQLite keeps no
/// statistics here, so a join can be planned the wrong way round; these read the plan itself.
struct QueryPlanTests {
    func plan(_ store: Store, _ sql: String, _ bindings: [SQLiteValue]) throws -> [String] {
        try store.database.withConnection { c in
            try c.query("EXPLAIN QUERY PLAN " + sql, bindings).compactMap { $0.string("detail") }
        }
    }

    func windowIndexes(_ store: Store) throws -> [String] {
        try store.database.withConnection { c in
            try c.query("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'windows'").compactMap { $0.string("name") }
        }
    }

    @Test("a produced input's readiness is looked up by (pipeline, activity, window_start), not by scanning Ready windows")
    func producedReadyIsALookup() throws {
        let folder = try TemporaryDirectory()
        let store = try Store.open(path: folder.path("refit.sqlite"))
        let steps = try plan(store, SQLiteSchedulingStore.producedReadySQL, [.text("TrainedModel"), .text("2026-01-01T00:00:00Z")])
        #expect(steps.contains { $0.contains("activity_outputs_by_dataset (dataset=?)") }, "\(steps)")
        #expect(steps.contains { $0.contains("sqlite_autoindex_windows_1 (pipeline=? AND activity=? AND window_start=?)") }, "\(steps)")
        #expect(!steps.contains { $0.contains("(state=?)") || $0.hasPrefix("SCAN w") }, "\(steps)")
    }

    @Test("version 10 dropped windows_by_next_attempt; counts by state read windows_by_state")
    func stateIndexes() throws {
        let folder = try TemporaryDirectory()
        let store = try Store.open(path: folder.path("refit.sqlite"))
        let indexes = try windowIndexes(store)
        #expect(!indexes.contains("windows_by_next_attempt") && indexes.contains("windows_by_state"), "\(indexes)")
        let steps = try plan(store, "SELECT count(*) AS n FROM windows WHERE state IN ('Waiting', 'InProgress')", [])
        #expect(steps.contains { $0.contains("windows_by_state (state=?)") }, "\(steps)")
    }

    @Test("version 12 dropped windows_claimable; a pipeline's count by state reads windows_by_state alone")
    func countsByStateOfOnePipeline() throws {
        let folder = try TemporaryDirectory()
        let store = try Store.open(path: folder.path("refit.sqlite"))
        let indexes = try windowIndexes(store)
        #expect(!indexes.contains("windows_claimable"), "\(indexes)")
        let steps = try plan(store, "SELECT state, count(*) AS n FROM windows WHERE state IN (\(StatusRepository.everyState)) AND pipeline = ? GROUP BY state",
                             [.text("p")])
        #expect(steps == ["SEARCH windows USING COVERING INDEX windows_by_state (state=? AND pipeline=?)"], "\(steps)")
        // And it counts what it did: every state, only that pipeline.
        try store.database.execute("""
            INSERT INTO windows (pipeline, activity, window_start, window_end, state, updated_at) VALUES
            ('p', 'a', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', 'Ready', '2026-01-01T00:00:00Z'),
            ('p', 'a', '2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z', 'Ready', '2026-01-01T00:00:00Z'),
            ('p', 'b', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', 'Skipped', '2026-01-01T00:00:00Z'),
            ('q', 'a', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', 'Failed', '2026-01-01T00:00:00Z')
            """)
        #expect(try StatusRepository(store).windowCounts(pipeline: "p") == [.ready: 2, .skipped: 1])
    }
}
