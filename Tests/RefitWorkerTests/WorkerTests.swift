import Foundation
import RefitCore
@testable import RefitStore
import RefitTestKit
import RefitWorker
import Testing

@Suite("Worker end to end (manual clock, real SQLite)", .timeLimit(.minutes(3)))
struct WorkerTests {
    /// External hourly data → Retrain → TrainedModel → Update, like the example pipeline.
    static func chain(start: String, end: String, retrain: ActivityPolicy = ActivityPolicy(concurrency: 4),
                      update: ActivityPolicy = ActivityPolicy(), external: Dataset.ExternalDataPolicy? = nil) -> Factory {
        TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Training", external: true, externalData: external),
                       TestDefinitions.hourly("Model"), TestDefinitions.hourly("Deployed")],
            pipelines: [TestDefinitions.pipeline("P", [
                TestDefinitions.activity("Retrain", inputs: ["Training"], outputs: ["Model"], policy: retrain),
                TestDefinitions.activity("Update", inputs: ["Model"], outputs: ["Deployed"], policy: update),
            ], start: start, end: end)])
    }

    @Test("a week of hourly windows, retrain then update, slice by slice")
    func week() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T00:00:00Z"))
        let location = InMemoryLocation()
        let runner = ScriptedRunner()
        let worker = makeWorker(Self.chain(start: "2026-01-01", end: "2026-01-08"), store: store, runner: runner,
                                clock: clock, location: location)
        for hour in 0..<(7 * 24) {
            location.write(Slice(start: t("2026-01-01") + .hours(Int64(hour)), end: t("2026-01-01") + .hours(Int64(hour + 1))))
            clock.advance(by: .hours(1))
            try await drain(worker)
        }
        let history = try RunRepository(store).history()
        #expect(history.count == 2 * 168)
        #expect(history.allSatisfy { $0.status == "Succeeded" && $0.attempt == 1 && $0.trigger == "schedule" })
        let windows = try WindowRepository(store).windows(pipeline: "P")
        #expect(windows.count == 2 * 168)
        #expect(windows.allSatisfy { $0.status == .ready })
        // Each update ran after the retrain of its window.
        let calls = runner.recorded
        for call in calls where call.activity == "Update" {
            let retrain = calls.firstIndex { $0.activity == "Retrain" && $0.window == call.window }
            let update = calls.firstIndex(of: call)
            #expect(retrain != nil && retrain! < update!)
        }
        #expect(try store.verifyEventChain() == nil)
    }

    @Test("backfill with concurrency honours executionPriorityOrder and caps",
          arguments: [ActivityPolicy.PriorityOrder.oldestFirst, .newestFirst])
    func backfill(order: ActivityPolicy.PriorityOrder) async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-02T01:00:00Z"))
        let factory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("P", [
                TestDefinitions.activity("Job", outputs: ["Out"], policy: ActivityPolicy(concurrency: 3, executionPriorityOrder: order)),
            ], start: "2026-01-01", end: "2026-01-02")])
        let runner = ScriptedRunner()
        let worker = makeWorker(factory, store: store, runner: runner, clock: clock)
        var ticks = 0
        while true {
            let report = try await worker.tickAndWait()
            #expect(report.started.count <= 3)
            #expect(runner.maximumConcurrent("Job") <= 3)
            ticks += 1
            if report.started.isEmpty { break }
        }
        #expect(ticks == 9)
        let starts = runner.recorded.map(\.window.start)
        let expected = (0..<24).map { t("2026-01-01") + .hours(Int64($0)) }
        // Within a batch of 3 the tasks may reach the runner in any order; batches are ordered.
        let batches = stride(from: 0, to: 24, by: 3).map { Set(starts[$0..<($0 + 3)]) }
        let wanted = order == .oldestFirst ? expected : expected.reversed()
        #expect(batches == stride(from: 0, to: 24, by: 3).map { Set(wanted[$0..<($0 + 3)]) })
        #expect(runner.maximumConcurrent("Job") <= 3)
        #expect(try RunRepository(store).history().allSatisfy { $0.trigger == "backfill" })
    }

    @Test("a chained activity that failed runs downstream only after a successful rerun")
    func chainedRerun() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T01:00:00Z"))
        let location = InMemoryLocation()
        location.write(.hour("2026-01-01T00:00:00Z"))
        let runner = ScriptedRunner { context, call in
            context.activity.name == "Retrain" && call == 1
                ? .failed(.terminal, message: "The training job failed.") : .succeeded(AttemptResult())
        }
        let worker = makeWorker(Self.chain(start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z"), store: store,
                                runner: runner, clock: clock, location: location)
        try await drain(worker)
        let repo = WindowRepository(store)
        let retrain = ActivityKey(pipeline: "P", activity: "Retrain"), update = ActivityKey(pipeline: "P", activity: "Update")
        #expect(try repo.window(retrain, start: t("2026-01-01"))?.status == .failed)
        let waiting = try repo.window(update, start: t("2026-01-01"))
        #expect(waiting?.status == .waiting && waiting?.substate == .datasetDependencies)
        #expect(runner.calls("Update").isEmpty)

        clock.advance(by: .minutes(30))
        let reset = try await worker.rerun(pipeline: "P", activity: "Retrain", windowStart: t("2026-01-01"))
        // The failed window and its (still waiting) downstream window for the same period.
        #expect(reset.map(\.0.activity) == ["Retrain", "Update"])
        try await drain(worker)
        #expect(try repo.window(retrain, start: t("2026-01-01"))?.status == .ready)
        #expect(try repo.window(update, start: t("2026-01-01"))?.status == .ready)
        let history = try RunRepository(store).history(RunFilter(activity: "Retrain"))
        #expect(history.map(\.status) == ["Failed", "Succeeded"])
        #expect(history.map(\.trigger) == ["schedule", "rerun"])
        #expect(history.first?.errorMessage == "The training job failed.")
    }

    @Test("a daily window over an hourly input waits for all 24 slices")
    func dailyOverHourly() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-02T00:00:00Z"))
        let location = InMemoryLocation()
        let factory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Hourly", external: true, externalData: .init(retryInterval: .minutes(5), maximumRetry: 10)),
                       TestDefinitions.hourly("Daily", frequency: .day)],
            pipelines: [TestDefinitions.pipeline("P", [TestDefinitions.activity("Report", inputs: ["Hourly"], outputs: ["Daily"])],
                                                 start: "2026-01-01", end: "2026-01-02")])
        for hour in 0..<23 { location.write(Slice(start: t("2026-01-01") + .hours(Int64(hour)), end: t("2026-01-01") + .hours(Int64(hour + 1)))) }
        let runner = ScriptedRunner()
        let worker = makeWorker(factory, store: store, runner: runner, clock: clock, location: location)
        try await drain(worker)
        #expect(runner.recorded.isEmpty)
        let window = try WindowRepository(store).window(ActivityKey(pipeline: "P", activity: "Report"), start: t("2026-01-01"))
        #expect(window?.substate == .datasetDependencies)
        #expect(try SliceRepository(store).slices(datasets: ["Hourly"], status: .ready).count == 23)
        location.write(.hour("2026-01-01T23:00:00Z"))
        clock.advance(by: .minutes(5))
        try await drain(worker)
        #expect(runner.recorded.map(\.window) == [Slice(start: t("2026-01-01"), end: t("2026-01-02"))])
    }

    @Test("retry 3, longRetry 2, 1 h: exactly 6 attempts, the second round an hour later")
    func longRetry() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let start = t("2026-01-01T01:00:00Z")
        let clock = ManualWallClock(start)
        let factory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("P", [TestDefinitions.activity("Job", outputs: ["Out"], policy: ActivityPolicy(
                retry: 3, longRetry: 2, longRetryInterval: .hours(1)))], start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z")])
        let runner = ScriptedRunner { _, _ in .failed(.retryable, message: "The service answered 503.") }
        let worker = makeWorker(factory, store: store, runner: runner, clock: clock)
        try await drain(worker)
        #expect(runner.recorded.count == 3)
        let key = ActivityKey(pipeline: "P", activity: "Job")
        let paused = try WindowRepository(store).window(key, start: t("2026-01-01"))
        #expect(paused?.status == .waiting && paused?.substate == .longRetry)
        clock.advance(by: .minutes(59))
        try await drain(worker)
        #expect(runner.recorded.count == 3)
        clock.advance(by: .minutes(1))
        try await drain(worker)
        #expect(runner.recorded.count == 6)
        #expect(runner.recorded.map(\.attempt) == [1, 2, 3, 4, 5, 6])
        let history = try RunRepository(store).history()
        #expect(history.count == 6)
        #expect(history[3].startedAt == start + .hours(1))
        #expect(history.map(\.trigger) == ["schedule", "retry", "retry", "retry", "retry", "retry"])
        #expect(try WindowRepository(store).window(key, start: t("2026-01-01"))?.status == .failed)
        clock.advance(by: .hours(5))
        try await drain(worker)
        #expect(runner.recorded.count == 6)
    }

    /// A worker over one window of 00:00–01:00 whose activity has `timeout` and runs until canceled.
    static func workerRunningUntilCanceled(timeout: TimeSpan, store: Store, clock: ManualWallClock) -> Worker {
        let factory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("P", [TestDefinitions.activity("Job", outputs: ["Out"], policy: ActivityPolicy(
                timeout: timeout))], start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z")])
        let runner = ScriptedRunner { _, _ in
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(1)) }
            return .canceled(message: "stopped")
        }
        return makeWorker(factory, store: store, runner: runner, clock: clock, leaseDuration: .hours(1))
    }

    @Test("an attempt past policy.timeout is canceled and recorded TimedOut")
    func timeout() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T01:00:00Z"))
        let worker = Self.workerRunningUntilCanceled(timeout: .minutes(10), store: store, clock: clock)
        async let pass = worker.tickAndWait()
        while await worker.runningCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        clock.advance(by: .minutes(11))
        let report = try await pass
        #expect(report.started.count == 1)
        let window = try WindowRepository(store).window(ActivityKey(pipeline: "P", activity: "Job"), start: t("2026-01-01"))
        #expect(window?.status == .failed && window?.substate == .timedOut)
        let run = try RunRepository(store).history().first
        #expect(run?.status == "TimedOut" && run?.errorClass == "timeout")
    }

    /// Refit's times are whole seconds, but an attempt's timeout counts from the moment of its
    /// claim: started 0.9 s into a second, a 1 s timeout must not end it 0.1 s later.
    @Test("policy.timeout counts from the claim's moment, not from the start of its second")
    func timeoutFromTheClaimsMoment() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(WallInstant(t("2026-01-01T01:00:00Z")).advanced(by: .milliseconds(900)))
        let worker = Self.workerRunningUntilCanceled(timeout: TimeSpan(seconds: 1), store: store, clock: clock)
        async let pass = worker.tickAndWait()
        while await worker.runningCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        clock.advance(by: .milliseconds(500))
        // Past the end of the claim's second, 0.6 s before the deadline: the attempt still runs.
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(2))
            if await worker.runningCount == 0 { break }
        }
        #expect(await worker.runningCount == 1)
        clock.advance(by: .milliseconds(500))
        let report = try await pass
        #expect(report.started.count == 1)
        let run = try RunRepository(store).history().first
        #expect(run?.status == "TimedOut")
        // The run id's first three hex digits follow the worker's clock: sixteenths of a second
        // modulo 4,096, here 14 sixteenths into the claim's second (decision record 37).
        let sixteenths = UInt64(t("2026-01-01T01:00:00Z").secondsSinceEpoch) * 16 + 14
        let digits = String(sixteenths % 4_096, radix: 16)
        #expect(run?.runID.hasPrefix(String(repeating: "0", count: 3 - digits.count) + digits) == true, "\(run?.runID ?? "")")
    }

    @Test("external data: checks every retryInterval, TimedOut after maximumRetry; data arriving between checks is found")
    func externalData() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T01:00:00Z"))
        let location = InMemoryLocation()
        let factory = Self.chain(start: "2026-01-01T00:00:00Z", end: "2026-01-01T02:00:00Z",
                                 external: .init(dataDelay: .zero, retryInterval: .minutes(1), maximumRetry: 3))
        let runner = ScriptedRunner()
        let worker = makeWorker(factory, store: store, runner: runner, clock: clock, location: location)
        let slices = SliceRepository(store)
        try await drain(worker)                       // check 1 of 00:00 (absent)
        clock.advance(by: .minutes(1)); try await drain(worker)   // check 2
        clock.advance(by: .minutes(1)); try await drain(worker)   // check 3 → TimedOut
        let first = try slices.slices(datasets: ["Training"]).first
        #expect(first?.status == .failed && first?.substate == .timedOut && first?.checkCount == 3)
        clock.advance(by: .minutes(10)); try await drain(worker)
        #expect(try slices.slices(datasets: ["Training"]).first?.checkCount == 3)
        #expect(runner.recorded.isEmpty)

        // The 01:00 slice is due at 02:00; its data lands between the first and second check.
        clock.set(t("2026-01-01T02:00:00Z"))
        try await drain(worker)
        location.write(.hour("2026-01-01T01:00:00Z"))
        clock.advance(by: TimeSpan(seconds: 30)); try await drain(worker)
        #expect(runner.recorded.isEmpty)              // not due yet: the next check is at 02:01
        clock.advance(by: TimeSpan(seconds: 30)); try await drain(worker)
        let second = try slices.slices(datasets: ["Training"]).last
        #expect(second?.status == .ready && second?.checkCount == 2 && second?.fingerprint?.files.count == 1)
        #expect(runner.recorded.map(\.window) == [.hour("2026-01-01T01:00:00Z"), .hour("2026-01-01T01:00:00Z")])
        let stuck = try WindowRepository(store).window(ActivityKey(pipeline: "P", activity: "Retrain"), start: t("2026-01-01"))
        #expect(stuck?.status == .waiting && stuck?.substate == .datasetDependencies)
    }

    @Test("a storage change re-checks waiting FileShare slices at once; a miss does not use up maximumRetry")
    func storageChangeRechecksEarly() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T01:00:00Z"))
        let location = InMemoryLocation()
        let factory = Self.chain(start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z",
                                 external: .init(dataDelay: .zero, retryInterval: .hours(1), maximumRetry: 3))
        let runner = ScriptedRunner()
        let worker = makeWorker(factory, store: store, runner: runner, clock: clock, location: location)
        let slices = SliceRepository(store)
        try await drain(worker)                                    // check 1: absent; next check at 02:00
        #expect(try slices.slices(datasets: ["Training"]).first?.checkCount == 1)

        await worker.storageChanged()                              // a change, but not this slice's data
        clock.advance(by: .minutes(1)); try await drain(worker)
        let missed = try slices.slices(datasets: ["Training"]).first
        #expect(missed?.status == .waiting && missed?.checkCount == 1)
        #expect(runner.recorded.isEmpty)

        location.write(.hour("2026-01-01T00:00:00Z"))
        clock.advance(by: .minutes(1)); try await drain(worker)    // no notification: waits for 02:00
        #expect(runner.recorded.isEmpty)
        await worker.storageChanged()
        clock.advance(by: .minutes(1)); try await drain(worker)
        let found = try slices.slices(datasets: ["Training"]).first
        #expect(found?.status == .ready && found?.checkCount == 2 && found?.fingerprint?.files.count == 1)
        #expect(runner.recorded.map(\.window) == [.hour("2026-01-01T00:00:00Z"), .hour("2026-01-01T00:00:00Z")])
    }

    @Test("slices of a dataset removed from the definitions are no longer checked and never keep the worker awake")
    func removedDatasetSlicesRest() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T01:00:00Z"))
        let location = InMemoryLocation()
        let before = Self.chain(start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z",
                                external: .init(dataDelay: .zero, retryInterval: .minutes(1), maximumRetry: 100))
        try await drain(makeWorker(before, store: store, runner: ScriptedRunner(), clock: clock, location: location))
        #expect(try SliceRepository(store).slices(datasets: ["Training"]).first?.status == .waiting)

        // The next definitions drop the Training dataset (and its pipeline); its slice stays Waiting, due.
        let after = TestDefinitions.factory(datasets: [TestDefinitions.hourly("Other", external: true)],
                                            pipelines: [TestDefinitions.pipeline("Q", [
                                                TestDefinitions.activity("Score", inputs: ["Other"], outputs: []),
                                            ], start: "2027-01-01T00:00:00Z", end: "2027-01-02T00:00:00Z")])
        clock.advance(by: .minutes(5))
        let worker = makeWorker(after, store: store, runner: ScriptedRunner(), clock: clock, location: location)
        let report = try await worker.tickAndWait()
        #expect(report.checks == 0)
        let slice = try SliceRepository(store).slices(datasets: ["Training"]).first
        #expect(slice?.checkCount == 1 && slice?.status == .waiting)
        #expect(await worker.nextWakeTime() > clock.now() + .minutes(1))
    }

    @Test("after the active period is shortened, windows left outside it are not run; they stay Waiting in the history")
    func shortenedActivePeriod() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T03:00:00Z"))
        let location = InMemoryLocation()
        let external = Dataset.ExternalDataPolicy(dataDelay: .zero, retryInterval: .minutes(1), maximumRetry: 100)
        let long = Self.chain(start: "2026-01-01T00:00:00Z", end: "2026-01-01T03:00:00Z", external: external)
        try await drain(makeWorker(long, store: store, runner: ScriptedRunner(), clock: clock, location: location))
        let key = ActivityKey(pipeline: "P", activity: "Retrain")
        #expect(try WindowRepository(store).windows(pipeline: "P").filter { $0.key == key }.count == 3)

        for hour in ["00", "01", "02"] { location.write(.hour("2026-01-01T\(hour):00:00Z")) }
        let short = Self.chain(start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z", external: external)
        let runner = ScriptedRunner()
        let worker = makeWorker(short, store: store, runner: runner, clock: clock, location: location)
        clock.advance(by: .minutes(2)); try await drain(worker)
        #expect(Set(runner.recorded.map(\.window)) == [.hour("2026-01-01T00:00:00Z")])
        let later = try WindowRepository(store).windows(pipeline: "P").filter { $0.key == key && $0.window.start > t("2026-01-01T00:00:00Z") }
        #expect(later.count == 2 && later.allSatisfy { $0.status == .waiting })
    }

    @Test("a paused pipeline starts nothing until resumed")
    func paused() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T03:00:00Z"))
        let factory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("P", [TestDefinitions.activity("Job", outputs: ["Out"], policy: ActivityPolicy(concurrency: 5))],
                                                 start: "2026-01-01T00:00:00Z", end: "2026-01-01T05:00:00Z")])
        let runner = ScriptedRunner()
        let worker = makeWorker(factory, store: store, runner: runner, clock: clock)
        // Windows exist, then the operator pauses.
        _ = try await worker.tickAndWait()
        #expect(runner.recorded.count == 3)

        let pausedFactory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("Q", [TestDefinitions.activity("Job", outputs: ["Out"])],
                                                 start: "2026-01-01T00:00:00Z", end: "2026-01-01T03:00:00Z", paused: true)])
        let pausedRunner = ScriptedRunner()
        let pausedWorker = makeWorker(pausedFactory, store: store, runner: pausedRunner, clock: clock, id: "w2")
        try await drain(pausedWorker)
        #expect(pausedRunner.recorded.isEmpty)

        let controls = PipelineControlRepository(store)
        try controls.setPaused("P", paused: true, now: clock.now())
        clock.advance(by: .hours(2))
        try await drain(worker)
        #expect(runner.recorded.count == 3)
        try controls.setPaused("P", paused: false, now: clock.now())
        try await drain(worker)
        #expect(runner.recorded.count == 5)
    }

    @Test("a crashed worker's lease expires, the lost attempt counts, and another worker resumes")
    func leaseExpiry() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T01:00:00Z"))
        let factory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("P", [TestDefinitions.activity("Job", outputs: ["Out"], policy: ActivityPolicy(retry: 1))],
                                                 start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z")])
        let runner = ScriptedRunner()
        let worker = makeWorker(factory, store: store, runner: runner, clock: clock, id: "survivor")
        let windows = WindowRepository(store)
        let scheduling = SQLiteSchedulingStore(store)
        // The "dead" worker materializes and claims, then vanishes without finishing.
        let key = ActivityKey(pipeline: "P", activity: "Job")
        _ = try await scheduling.materialize(key, windows: [NewWindow(window: .hour("2026-01-01T00:00:00Z"), dueAt: t("2026-01-01T01:00:00Z"), trigger: .schedule)],
                                         until: t("2026-01-01T01:00:00Z"), outputs: ["Out"], definitionSHA256: String(repeating: "a", count: 64),
                                         budget: RetryBudget(ActivityPolicy(retry: 1)), now: clock.now())
        let id = try #require(try windows.window(key, start: t("2026-01-01"))?.id)
        try await scheduling.recordInputs([WindowInputs(windowID: id, inputs: [])], now: clock.now())
        let claim = try await scheduling.claim(ClaimRequest(windowID: id, workerID: "dead", runID: "run-dead", leaseDuration: .minutes(5),
                                                            concurrency: 1, budget: RetryBudget(ActivityPolicy(retry: 1)),
                                                            definitionSHA256: String(repeating: "a", count: 64)), now: clock.now())
        #expect(claim?.attempt == 1)
        // While the lease is valid nobody else runs it.
        try await drain(worker)
        #expect(runner.recorded.isEmpty)
        clock.advance(by: .minutes(6))
        let report = try await worker.tickAndWait()
        #expect(report.recovered == 1)
        #expect(runner.recorded.map(\.attempt) == [2])
        let history = try RunRepository(store).history()
        #expect(history.map(\.status) == ["Failed", "Succeeded"])
        #expect(history.first?.errorClass == "crash" && history.first?.workerID == "dead")
        #expect(try windows.window(key, start: t("2026-01-01"))?.attempts == 2)
        // The dead worker's late result changes nothing.
        let late = try await scheduling.finish(runID: "run-dead", workerID: "dead", outcome: .succeeded(AttemptResult()),
                                               budget: RetryBudget(ActivityPolicy(retry: 1)), now: clock.now())
        #expect(late?.applied == false)
    }

    @Test("two workers on one SQLite file never run the same window")
    func twoWorkers() async throws {
        let db = try TestDatabase()
        let storeA = try db.open(), storeB = try db.open()
        let clock = ManualWallClock(t("2026-01-03T00:00:00Z"))
        let factory = TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("P", [TestDefinitions.activity("Job", outputs: ["Out"], policy: ActivityPolicy(concurrency: 10))],
                                                 start: "2026-01-01", end: "2026-01-03")])
        let runner = ScriptedRunner { _, _ in
            try? await Task.sleep(for: .milliseconds(2))
            return .succeeded(AttemptResult())
        }
        let a = makeWorker(factory, store: storeA, runner: runner, clock: clock, id: "A")
        let b = makeWorker(factory, store: storeB, runner: runner, clock: clock, id: "B")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in [a, b] {
                group.addTask {
                    for _ in 0..<30 {
                        _ = try await worker.tickAndWait()
                        await Task.yield()
                    }
                }
            }
            try await group.waitForAll()
        }
        try await drain(a)
        let history = try RunRepository(storeA).history()
        #expect(history.count == 48)
        #expect(Set(history.map(\.windowID)).count == 48)
        #expect(history.allSatisfy { $0.status == "Succeeded" && $0.attempt == 1 })
        #expect(Set(runner.recorded.map(\.window)).count == runner.recorded.count)
        #expect(runner.maximumConcurrent("Job") <= 10)
    }
}

@Suite("Worker run loop, shutdown and deployments", .timeLimit(.minutes(3)))
struct WorkerLoopTests {
    static func single(_ policy: ActivityPolicy = ActivityPolicy(), end: String = "2026-01-01T01:00:00Z") -> Factory {
        TestDefinitions.factory(
            datasets: [TestDefinitions.hourly("Out")],
            pipelines: [TestDefinitions.pipeline("P", [TestDefinitions.activity("Job", outputs: ["Out"], policy: policy)],
                                                 start: "2026-01-01T00:00:00Z", end: end)])
    }

    /// Polls (in real time, briefly) until `condition` holds; the worker runs on other tasks.
    func eventually(_ condition: () throws -> Bool) async throws {
        for _ in 0..<5_000 {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        Issue.record("condition not reached")
    }

    @Test("the wake-up asks the store's watermark only when the one the worker knows leaves a window due")
    func wakeUpWithKnownWatermark() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T01:30:00Z"))
        let factory = Self.single(end: "2026-01-01T03:00:00Z")
        let a = makeWorker(factory, store: store, runner: ScriptedRunner(), clock: clock, id: "a")
        let b = makeWorker(factory, store: store, runner: ScriptedRunner(), clock: clock, id: "b")
        // A materializes 00:00–01:00; it then knows the watermark 01:00, which leaves nothing due.
        try await a.tickAndWait()
        #expect(await a.nextWakeTime() == t("2026-01-01T01:40:00Z"))
        // 01:00–02:00 falls due, and B materializes it: the store's watermark moves past A's.
        clock.set(t("2026-01-01T02:10:00Z"))
        try await b.tickAndWait()
        // A's own watermark leaves 01:00–02:00 due, so it asks the store, which has it already:
        // no wake-up at once, but at the next due time capped by maximumSleep, as for B.
        #expect(await a.nextWakeTime() == t("2026-01-01T02:20:00Z"))
        #expect(await b.nextWakeTime() == t("2026-01-01T02:20:00Z"))
        // A window due that nobody materialized wakes at once, whichever watermark is known.
        clock.set(t("2026-01-01T03:05:00Z"))
        #expect(await a.nextWakeTime() <= t("2026-01-01T03:05:01Z"))
    }

    @Test("run sleeps until the next window is due and wakes early when signalled")
    func runLoop() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T00:30:00Z"))
        let runner = ScriptedRunner()
        let worker = makeWorker(Self.single(end: "2026-01-01T02:00:00Z"), store: store, runner: runner, clock: clock, id: "loop")
        // The next due time, but never more than maximumSleep (10 minutes) away.
        #expect(await worker.nextWakeTime() == t("2026-01-01T00:40:00Z"))
        clock.set(t("2026-01-01T00:55:00Z"))
        #expect(await worker.nextWakeTime() == t("2026-01-01T01:00:00Z"))
        let (wakeUps, continuation) = AsyncStream<Void>.makeStream()
        let loop = Task { await worker.run(wakeUps: wakeUps) }
        try await Task.sleep(for: .milliseconds(20))
        #expect(runner.recorded.isEmpty)
        clock.set(t("2026-01-01T01:00:00Z"))
        try await eventually { runner.recorded.count == 1 }

        // Paused by an operator, resumed out of band: a wake-up starts the due window at once.
        let controls = PipelineControlRepository(store)
        try controls.setPaused("P", paused: true, now: clock.now())
        continuation.yield()
        clock.set(t("2026-01-01T02:00:00Z"))
        try await Task.sleep(for: .milliseconds(20))
        #expect(runner.recorded.count == 1)
        try controls.setPaused("P", paused: false, now: clock.now())
        continuation.yield()
        try await eventually { runner.recorded.count == 2 }
        await worker.stop()
        await loop.value
        continuation.finish()
    }

    @Test("stop lets attempts finish within the grace period, then releases the rest without charging them")
    func gracefulStop() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T01:00:00Z"))
        let runner = ScriptedRunner { _, _ in
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(1)) }
            return .canceled(message: "interrupted")
        }
        let worker = makeWorker(Self.single(), store: store, runner: runner, clock: clock, leaseDuration: .hours(1))
        let loop = Task { await worker.run() }
        try await eventually { runner.recorded.count == 1 }
        await worker.stop()
        try await Task.sleep(for: .milliseconds(20))
        #expect(try RunRepository(store).history().first?.status == "InProgress")
        // The worker computes its grace deadline when it starts draining, which may come after
        // this point under load: keep moving the clock past it until the loop has ended.
        let ended = Flag()
        let waiter = Task { await loop.value; ended.set() }
        while !ended.isSet {
            clock.advance(by: TimeSpan(seconds: 31))
            try await Task.sleep(for: .milliseconds(5))
        }
        await waiter.value
        let run = try RunRepository(store).history().first
        #expect(run?.status == "Failed" && run?.errorClass == "interrupted")
        let window = try WindowRepository(store).window(ActivityKey(pipeline: "P", activity: "Job"), start: t("2026-01-01"))
        #expect(window?.status == .waiting && window?.attempts == 0 && window?.leaseOwner == nil)
    }

    @Test("an older model never replaces a newer one on an endpoint (D14): Skipped/Superseded")
    func monotonicDeployments() async throws {
        let db = try TestDatabase()
        let store = try db.open()
        let clock = ManualWallClock(t("2026-01-01T02:00:00Z"))
        let runner = ScriptedRunner { context, _ in
            .succeeded(AttemptResult(outputs: [ProducedOutput(name: "model", location: "models/\(context.window.start.iso8601)")],
                                     deployment: ProducedDeployment(endpoint: "scoring", modelLocation: "models/\(context.window.start.iso8601)",
                                                                    modelWindow: context.window, reason: context.trigger.rawValue)))
        }
        let worker = makeWorker(Self.single(ActivityPolicy(executionPriorityOrder: .newestFirst), end: "2026-01-01T02:00:00Z"),
                                store: store, runner: runner, clock: clock)
        try await drain(worker)
        #expect(runner.recorded.map(\.window.start) == [t("2026-01-01T01:00:00Z"), t("2026-01-01T00:00:00Z")])
        let history = try RunRepository(store).history()
        #expect(history.map(\.window.start) == [t("2026-01-01T01:00:00Z"), t("2026-01-01T00:00:00Z")])
        #expect(history.map(\.status) == ["Succeeded", "Skipped"])
        #expect(history.last?.substatus == "Superseded")
        #expect(history.last?.errorMessage?.contains("newer window") == true)
        let deployed = try store.database.query("SELECT model_location FROM deployments").compactMap { $0.string("model_location") }
        #expect(deployed == ["models/2026-01-01T01:00:00Z"])
    }
}

/// A thread-safe one-way flag for tests.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
