import RefitCore
import Testing

/// How attempts end: outcomes, retries, deployments, and results that arrive too late.
@Suite("SchedulingStore conformance: finishing attempts")
struct FinishConformanceTests {
    typealias S = Scenario

    @Test("success makes the window Ready and its consumers runnable in the same step", arguments: StoreKind.allCases)
    func successChains(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let train = try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"])[0]
        try await f.materialize(S.deploy, hours: 0..<1, outputs: ["Deployed"])
        #expect(try await f.resolve(S.deploy, hours: 0..<1) { [S.produced("Model", $0)] }[0].missingInputs == 1)
        _ = try #require(try await f.claim(train.id, run: "t0"))
        try await f.store.recordExternalJob(runID: "t0", jobID: "job-1")
        #expect(try f.inspector.run(id: "t0")?.externalJobID == "job-1")
        let finished = try #require(try await f.finish("t0", Scenario.success(), now: S.now + .minutes(2)))
        #expect(finished == FinishedAttempt(windowID: train.id, status: .ready, substate: nil, action: .markReady, applied: true))
        let window = try await f.record(S.train, 0)
        #expect(window.status == .ready)
        #expect(window.leaseOwner == nil && window.leaseExpiresAt == nil)
        #expect(window.nextAttemptAt == nil)
        let run = try #require(try f.inspector.run(id: "t0"))
        #expect(run.status == .succeeded && run.ended && run.errorClass == nil)
        #expect(run.externalJobID == "job-1")
        let deploy = try await f.record(S.deploy, 0)
        #expect(deploy.missingInputs == 0)
        #expect(deploy.substate == nil)
        #expect(deploy.updatedAt == S.now + .minutes(2))
        #expect(try await f.candidateStarts(S.query(S.deploy)) == [S.hour(0).start])
        #expect(try f.inspector.eventKinds(runID: "t0") == ["attemptStarted", "attemptFinished"])
    }

    @Test("chaining through the same activity: each window reads the model of the one before", arguments: StoreKind.allCases)
    func selfChain(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.materialize(S.train, hours: 0..<4, outputs: ["Model"])
        try await f.resolve(S.train, hours: 0..<4) { $0 == 0 ? [] : [S.produced("Model", $0 - 1)] }
        for index in 0..<4 {
            #expect(try await f.candidateStarts(S.query(S.train)) == [S.hour(index).start])
            try await f.run(S.train, index, run: "t\(index)")
        }
        #expect(try await f.store.candidates(S.query(S.train), now: S.now).isEmpty)
    }

    @Test("a daily window reading 24 hourly slices runs once the last of them is Ready", arguments: StoreKind.allCases)
    func dailyOverHourly(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let later = S.t0 + .days(2)
        try await f.runnable(S.train, hours: 0..<24, outputs: ["Model"], now: later)
        let day = Slice(start: S.t0, end: S.t0 + .days(1))
        _ = try await f.store.materialize(S.score, windows: [NewWindow(window: day, dueAt: day.end, trigger: .schedule)], until: day.end,
                                          outputs: [], definitionSHA256: S.sha, budget: S.once, now: later)
        let daily = try #require(try await f.store.window(S.score, start: S.t0))
        try await f.store.recordInputs([WindowInputs(windowID: daily.id, inputs: (0..<24).map { S.produced("Model", $0) })], now: later)
        #expect(try await f.store.window(id: daily.id)?.missingInputs == 24)
        for index in (0..<24).reversed() {
            try await f.run(S.train, index, run: "t\(index)", now: later)
            #expect(try await f.store.window(id: daily.id)?.missingInputs == index)
        }
        #expect(try await f.candidateStarts(S.query(S.score), now: later) == [S.t0])
    }

    @Test("retryable failures retry within the budget, then the window is Failed", arguments: StoreKind.allCases)
    func retryThenFail(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let budget = RetryBudget(ActivityPolicy(retry: 1))
        let record = try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"], budget: budget)[0]
        _ = try #require(try await f.claim(record.id, run: "a1", budget: budget))
        let first = try #require(try await f.finish("a1", .failed(.retryable, message: "flaky"), budget: budget))
        #expect(first == FinishedAttempt(windowID: record.id, status: .waiting, substate: .retry, action: .scheduleRetry(at: S.now),
                                         applied: true))
        let waiting = try await f.record(S.train, 0)
        #expect(waiting.attempts == 1)
        #expect(waiting.nextTrigger == .retry)
        #expect(waiting.nextAttemptAt == S.now)
        #expect(try await f.candidateStarts(S.query(S.train)) == [S.hour(0).start])
        let second = try #require(try await f.claim(record.id, run: "a2", budget: budget))
        #expect(second.attempt == 2)
        #expect(second.trigger == .retry)
        let last = try #require(try await f.finish("a2", .failed(.retryable, message: "flaky again"), budget: budget))
        #expect(last.status == .failed && last.substate == nil && last.action == .markFailed)
        let runs = try f.inspector.runs(windowID: record.id)
        #expect(runs.map(\.status) == [.failed, .failed])
        #expect(runs.map(\.errorClass) == [.transient, .transient])
        #expect(runs.map(\.errorMessage) == ["flaky", "flaky again"])
        #expect(try await f.candidateStarts(S.query(S.train)).isEmpty)
    }

    @Test("a terminal failure ends the window at once; longRetry rounds wait their interval", arguments: StoreKind.allCases)
    func terminalAndLongRetry(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let rounds = RetryBudget(attemptsPerRound: 1, rounds: 2, roundInterval: .hours(1))
        try await f.runnable(S.train, hours: 0..<2, outputs: ["Model"], budget: rounds)
        let terminal = try await f.run(S.train, 0, run: "t", .failed(.terminal, message: "bad credentials"), budget: rounds)
        #expect(terminal?.status == .failed && terminal?.action == .markFailed)
        #expect(try f.inspector.run(id: "t")?.errorClass == .terminal)
        let long = try await f.run(S.train, 1, run: "l1", .failed(.retryable, message: "down"), budget: rounds)
        #expect(long?.status == .waiting && long?.substate == .longRetry && long?.action == .scheduleRetry(at: S.now + .hours(1)))
        let window = try await f.record(S.train, 1)
        #expect(window.longRetryRound == 1)
        #expect(window.nextAttemptAt == S.now + .hours(1))
        #expect(try await f.claim(window.id, run: "l2", budget: rounds) == nil)
        #expect(try await f.store.nextWakeTime(after: S.now, workerID: "w1") == S.now + .hours(1))
        let again = try #require(try await f.claim(window.id, run: "l2", budget: rounds, now: S.now + .hours(1)))
        #expect(again.attempt == 2)
    }

    @Test("timed out: retried like a failure, finally Failed/TimedOut", arguments: StoreKind.allCases)
    func timedOut(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let budget = RetryBudget(ActivityPolicy(retry: 1))
        try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"], budget: budget)
        let first = try await f.run(S.train, 0, run: "a1", .timedOut(message: "over 1h"), budget: budget)
        #expect(first?.status == .waiting && first?.substate == .retry)
        let last = try await f.run(S.train, 0, run: "a2", .timedOut(message: "over 1h"), budget: budget)
        #expect(last?.status == .failed && last?.substate == .timedOut && last?.action == .markFailed)
        let run = try #require(try f.inspector.run(id: "a2"))
        #expect(run.status == .timedOut && run.substatus == .timedOut && run.errorClass == .timeout && run.errorMessage == "over 1h")
    }

    @Test("canceled: Failed/Canceled without retry", arguments: StoreKind.allCases)
    func canceled(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let budget = RetryBudget(ActivityPolicy(retry: 3))
        try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"], budget: budget)
        let finished = try await f.run(S.train, 0, run: "c", .canceled(message: "operator"), budget: budget)
        #expect(finished?.status == .failed && finished?.substate == .canceled && finished?.action == .markFailed)
        let run = try #require(try f.inspector.run(id: "c"))
        #expect(run.status == .canceled && run.substatus == .canceled && run.errorClass == .canceled)
    }

    @Test("skipped: the window ends Skipped and does not satisfy its consumers", arguments: StoreKind.allCases)
    func skipped(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"])
        try await f.materialize(S.deploy, hours: 0..<1, outputs: ["Deployed"])
        try await f.resolve(S.deploy, hours: 0..<1) { [S.produced("Model", $0)] }
        let finished = try await f.run(S.train, 0, run: "s", .skipped(.superseded, reason: "nothing to do"))
        #expect(finished?.status == .skipped && finished?.substate == .superseded && finished?.action == .markSkipped)
        let run = try #require(try f.inspector.run(id: "s"))
        #expect(run.status == .skipped && run.substatus == .superseded && run.errorMessage == "nothing to do")
        #expect(try await f.record(S.deploy, 0).missingInputs == 1)
    }

    @Test("deployments are monotonic per endpoint: an older model ends Skipped/Superseded unless forced", arguments: StoreKind.allCases)
    func monotonicDeployments(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.runnable(S.deploy, hours: 0..<8, outputs: ["Deployed"])
        func deployment(_ index: Int, forced: Bool = false) -> ProducedDeployment {
            ProducedDeployment(endpoint: "score", modelLocation: "models/\(index)", modelWindow: S.hour(index), reason: "schedule",
                               forced: forced)
        }
        let newer = try await f.run(S.deploy, 5, run: "d5", Scenario.success(deploying: deployment(5)))
        #expect(newer?.status == .ready)
        let older = try await f.run(S.deploy, 3, run: "d3", Scenario.success(deploying: deployment(3)))
        #expect(older == FinishedAttempt(windowID: try await f.record(S.deploy, 3).id, status: .skipped, substate: .superseded,
                                         action: .markSkipped, applied: true))
        let run = try #require(try f.inspector.run(id: "d3"))
        #expect(run.status == .skipped && run.substatus == .superseded)
        #expect(run.errorMessage == "A model trained on the newer window starting \(S.hour(5).start.iso8601) already serves endpoint score.")
        // The same window is not older; another endpoint is independent; a forced rollback is recorded.
        #expect(try await f.run(S.deploy, 6, run: "d5b", Scenario.success(deploying: deployment(5)))?.status == .ready)
        let elsewhere = ProducedDeployment(endpoint: "other", modelLocation: "models/1", modelWindow: S.hour(1), reason: "schedule")
        #expect(try await f.run(S.deploy, 1, run: "d1", Scenario.success(deploying: elsewhere))?.status == .ready)
        #expect(try await f.run(S.deploy, 2, run: "d2", Scenario.success(deploying: deployment(2, forced: true)))?.status == .ready)
        // After the rollback the serving model is window 2's: window 4's model may deploy again.
        #expect(try await f.run(S.deploy, 4, run: "d4", Scenario.success(deploying: deployment(4)))?.status == .ready)
        #expect(try await f.run(S.deploy, 0, run: "d0", Scenario.success(deploying: deployment(0)))?.status == .skipped)
    }

    @Test("a result arriving after the lease was lost is audited, not applied", arguments: StoreKind.allCases)
    func lateResult(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let budget = RetryBudget(ActivityPolicy(retry: 2))
        let record = try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"], budget: budget)[0]
        _ = try #require(try await f.claim(record.id, run: "lost", worker: "w1", budget: budget, lease: .minutes(5)))
        let recovered = try await f.store.recoverExpiredLeases(now: S.now + .minutes(6)) { _ in budget }
        #expect(recovered.map(\.id) == [record.id])
        // Another worker has the window now.
        _ = try #require(try await f.claim(record.id, run: "next", worker: "w2", budget: budget, now: S.now + .minutes(7)))
        let late = try #require(try await f.finish("lost", Scenario.success(), worker: "w1", budget: budget, now: S.now + .minutes(8)))
        #expect(late == FinishedAttempt(windowID: record.id, status: .inProgress, substate: nil, action: .none, applied: false))
        #expect(try await f.record(S.train, 0).leaseOwner == "w2")
        let lost = try #require(try f.inspector.run(id: "lost"))
        #expect(lost.status == .failed && lost.errorClass == .crash)
        #expect(try f.inspector.eventKinds(runID: "lost").last == "lateResult")
        // A foreign worker's result for a live run is not applied either; unknown runs are nil.
        let foreign = try await f.finish("next", Scenario.success(), worker: "w1", budget: budget, now: S.now + .minutes(8))
        #expect(foreign?.applied == false)
        #expect(try f.inspector.run(id: "next")?.status == .inProgress)
        #expect(try await f.finish("nobody", Scenario.success()) == nil)
    }
}
