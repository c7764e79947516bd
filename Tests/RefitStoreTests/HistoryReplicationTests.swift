import Foundation
import Testing
import RefitCore
@testable import RefitStore

/// `Store.replicateFinishedHistory`, the benchmarks' way to a long history: copies keep every
/// column the worker wrote, move into the past, and only a finished history is copied.
@Suite struct HistoryReplicationTests {
    static let key = ActivityKey(pipeline: "P", activity: "Job")
    static let t0 = Instant(year: 2026, month: 1, day: 1)
    static let budget = RetryBudget(attemptsPerRound: 1, rounds: 1, roundInterval: .zero)
    static let sha = String(repeating: "b", count: 64)

    /// Three hourly windows, each claimed and finished Succeeded.
    func finishedHistory() async throws -> (Store, SQLiteSchedulingStore, TemporaryDirectory) {
        let folder = try TemporaryDirectory()
        let store = try Store.open(path: folder.path("refit.sqlite"))
        let scheduling = SQLiteSchedulingStore(store)
        let now = Self.t0 + .hours(4)
        let windows = (0..<3).map { h in
            NewWindow(window: Slice(start: Self.t0 + .hours(Int64(h)), end: Self.t0 + .hours(Int64(h) + 1)),
                      dueAt: Self.t0 + .hours(Int64(h) + 1), trigger: .schedule)
        }
        _ = try await scheduling.materialize(Self.key, windows: windows, until: Self.t0 + .hours(3), outputs: ["Out"],
                                             definitionSHA256: Self.sha, budget: Self.budget, now: now)
        for h in 0..<3 {
            let record = try #require(try await scheduling.window(Self.key, start: Self.t0 + .hours(Int64(h))))
            try await scheduling.recordInputs([WindowInputs(windowID: record.id, inputs: [])], now: now)
            let claim = ClaimRequest(windowID: record.id, workerID: "w", runID: "run-\(h)", leaseDuration: .minutes(5),
                                     concurrency: 1, budget: Self.budget, definitionSHA256: Self.sha)
            _ = try #require(try await scheduling.claim(claim, now: now))
            _ = try await scheduling.finish(runID: "run-\(h)", workerID: "w", outcome: .succeeded(AttemptResult()),
                                            budget: Self.budget, now: now)
        }
        return (store, scheduling, folder)
    }

    @Test("two copies of three finished windows make nine, each copy a span earlier, shaped like the original")
    func copies() async throws {
        let (store, scheduling, folder) = try await finishedHistory()
        _ = folder
        let rowsBefore = try tableCounts(store)
        #expect(try store.replicateFinishedHistory(copies: 2, span: .hours(3)) == 9)
        #expect(try tableCounts(store) == rowsBefore.mapValues { $0 * 3 })
        for h in -6..<3 {
            let record = try #require(try await scheduling.window(Self.key, start: Self.t0 + .hours(Int64(h))))
            #expect(record.status == .ready)
            #expect(record.window.end == record.window.start + .hours(1))
        }
        let runs = try store.database.withConnection { try $0.query("SELECT run_id, started_at FROM runs ORDER BY run_id") }
        #expect(runs.compactMap { $0.string("run_id") } == ["run-0", "run-0~1", "run-0~2", "run-1", "run-1~1", "run-1~2",
                                                              "run-2", "run-2~1", "run-2~2"])
        #expect(try store.verifyEventChain() == nil)
        // Nothing in the copies is due: an idle pass has nothing to claim.
        #expect(try await scheduling.window(Self.key, start: Self.t0 - .hours(7)) == nil)
    }

    func tableCounts(_ store: Store) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in ["windows", "runs", "steps", "outputs", "slices", "window_inputs", "run_inputs"] {
            counts[table] = try store.database.withConnection { try $0.query("SELECT count(*) AS n FROM \(table)").first?.int("n") } ?? -1
        }
        return counts
    }

    @Test("a history with a window still waiting is refused and left as it was")
    func refusesOpenWork() async throws {
        let (store, scheduling, folder) = try await finishedHistory()
        _ = folder
        let open = NewWindow(window: Slice(start: Self.t0 + .hours(3), end: Self.t0 + .hours(4)), dueAt: Self.t0 + .hours(4),
                             trigger: .schedule)
        _ = try await scheduling.materialize(Self.key, windows: [open], until: Self.t0 + .hours(4), outputs: ["Out"],
                                             definitionSHA256: Self.sha, budget: Self.budget, now: Self.t0 + .hours(5))
        #expect(throws: StoreError.self) { try store.replicateFinishedHistory(copies: 1, span: .hours(4)) }
        let count = try store.database.withConnection { try $0.query("SELECT count(*) AS n FROM windows").first?.int("n") }
        #expect(count == 4)
    }
}
