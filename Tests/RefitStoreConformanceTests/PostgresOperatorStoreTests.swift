import Foundation
import RefitCore
import RefitPostgres
import Testing

/// The operator transitions of `PostgresSchedulingStore` (`OperatorStore`), the same scenarios
/// as `OperatorStoreTests` on SQLite: all-or-nothing reruns and skips, consumers' readiness kept
/// right when a window leaves Ready, backfills that create missing windows and report progress.
@Suite("OperatorStore on PostgreSQL")
struct PostgresOperatorStoreTests {
    static let producer = ActivityKey(pipeline: "P", activity: "Train")
    static let consumer = ActivityKey(pipeline: "P", activity: "Deploy")
    static let t0 = Instant(year: 2026, month: 1, day: 1)
    static let budget = RetryBudget(attemptsPerRound: 1, rounds: 1, roundInterval: .zero)
    static let sha = String(repeating: "a", count: 64)
    static let request = OperatorRequest(actor: "alice", reason: "because")

    static func hour(_ h: Int64) -> Slice { Slice(start: t0 + .hours(h), end: t0 + .hours(h + 1)) }

    /// A store where Train@0 is Ready and Deploy@0 reads its output (nothing missing).
    func fixture() async throws -> (PostgresSchedulingStore, PostgresTestDatabase) {
        let database = try PostgresTestDatabase()
        let scheduling = try PostgresSchedulingStore.open(url: database.url, leaseClock: .caller)
        let now = Self.t0 + .hours(5)
        let window = NewWindow(window: Self.hour(0), dueAt: Self.t0 + .hours(1), trigger: .schedule)
        _ = try await scheduling.materialize(Self.producer, windows: [window], until: Self.t0 + .hours(1), outputs: ["Model"],
                                             definitionSHA256: Self.sha, budget: Self.budget, now: now)
        _ = try await scheduling.materialize(Self.consumer, windows: [window], until: Self.t0 + .hours(1), outputs: ["Deployed"],
                                             definitionSHA256: Self.sha, budget: Self.budget, now: now)
        let train = try #require(try await scheduling.window(Self.producer, start: Self.t0))
        let deploy = try #require(try await scheduling.window(Self.consumer, start: Self.t0))
        try await scheduling.recordInputs([WindowInputs(windowID: train.id, inputs: []),
                                           WindowInputs(windowID: deploy.id, inputs: [InputSlice(dataset: "Model", slice: Self.hour(0), external: nil)])],
                                          now: now)
        let claim = ClaimRequest(windowID: train.id, workerID: "w", runID: "run-1", leaseDuration: .minutes(5), concurrency: 1,
                                 budget: Self.budget, definitionSHA256: Self.sha)
        _ = try #require(try await scheduling.claim(claim, now: now))
        _ = try await scheduling.finish(runID: "run-1", workerID: "w", outcome: .succeeded(AttemptResult()), budget: Self.budget, now: now)
        #expect(try await scheduling.window(Self.consumer, start: Self.t0)?.missingInputs == 0)
        return (scheduling, database)
    }

    @Test func skipOfAReadyWindowMakesItsConsumerWaitAgain() async throws {
        let (scheduling, database) = try await fixture()
        _ = database
        let changed = try await scheduling.skip([WindowTarget(key: Self.producer, start: Self.t0)], request: Self.request,
                                                now: Self.t0 + .hours(6))
        #expect(changed.map(\.status) == [.ready])
        #expect(try await scheduling.window(Self.producer, start: Self.t0)?.status == .skipped)
        let deploy = try await scheduling.window(Self.consumer, start: Self.t0)
        #expect(deploy?.missingInputs == 1 && deploy?.substate == .datasetDependencies)
    }

    @Test func rerunIsAllOrNothing() async throws {
        let (scheduling, database) = try await fixture()
        _ = database
        let missing = WindowTarget(key: Self.consumer, start: Self.t0 + .hours(3))
        await #expect(throws: OperatorRefusal.windowNotFound(missing)) {
            try await scheduling.rerun([WindowTarget(key: Self.producer, start: Self.t0), missing], budget: { _ in Self.budget },
                                       request: Self.request, now: Self.t0 + .hours(6))
        }
        #expect(try await scheduling.window(Self.producer, start: Self.t0)?.status == .ready, "the first target was rolled back")
        let reset = try await scheduling.rerun([WindowTarget(key: Self.producer, start: Self.t0)], budget: { _ in Self.budget },
                                               request: Self.request, now: Self.t0 + .hours(6))
        #expect(reset.count == 1)
        let train = try await scheduling.window(Self.producer, start: Self.t0)
        #expect(train?.status == .waiting && train?.nextTrigger == .rerun && train?.priority == 1)
        #expect(try await scheduling.window(Self.consumer, start: Self.t0)?.missingInputs == 1)
        let detail = try scheduling.database.readNow {
            try $0.query("SELECT detail FROM events WHERE kind = 'windowRerun'").first?.string("detail")
        } ?? ""
        #expect(detail.contains("\"actor\":\"alice\"") && detail.contains("\"reason\":\"because\""), "event: \(detail)")
    }

    @Test func backfillCreatesMissingWindowsAndReportsProgress() async throws {
        let (scheduling, database) = try await fixture()
        _ = database
        let now = Self.t0 + .hours(6)
        let windows = [Self.hour(0), Self.hour(1)].enumerated().map { index, slice in
            BackfillWindow(key: Self.producer, window: slice, dueAt: slice.end, budget: Self.budget, outputs: ["Model"],
                           definitionSHA256: Self.sha, priority: 2 - index)
        }
        let request = BackfillRequest(pipeline: "P", activities: ["Train"], from: Self.t0, to: Self.t0 + .hours(2), mode: .all,
                                      order: .oldestFirst, request: Self.request)
        let record = try await scheduling.startBackfill(request, windows: windows, now: now)
        #expect(record.id == 1 && record.progress == BackfillProgress(total: 2, done: 0, failed: 0, running: 0, waiting: 2))
        let rerun = try await scheduling.window(Self.producer, start: Self.t0)
        #expect(rerun?.status == .waiting && rerun?.nextTrigger == .backfill && rerun?.priority == 2)
        let created = try await scheduling.window(Self.producer, start: Self.t0 + .hours(1))
        #expect(created?.nextTrigger == .backfill && created?.priority == 1 && created?.missingInputs == nil)
        #expect(try await scheduling.backfills().map(\.id) == [1])
        #expect(try await scheduling.backfill(id: 1)?.backfill.request.actor == "alice")
    }
}
