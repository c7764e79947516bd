import RefitCore
import Testing

@Suite("Retry budget (D5)")
struct RetryBudgetTests {
    @Test("attempts per ADF policy", arguments: [
        (0, 1, 1, 1), (2, 1, 3, 1), (3, 2, 3, 2), (0, 3, 1, 3), (10, 1, 11, 1), (1, 0, 2, 1),
    ])
    func budgets(retry: Int, longRetry: Int, perRound: Int, rounds: Int) {
        let budget = RetryBudget(ActivityPolicy(retry: retry, longRetry: longRetry, longRetryInterval: .hours(1)))
        #expect(budget.attemptsPerRound == perRound)
        #expect(budget.rounds == rounds)
    }

    @Test("ADF's worked example: retry 3, longRetry 2 → 6 attempts")
    func workedExample() {
        #expect(RetryBudget(ActivityPolicy(retry: 3, longRetry: 2, longRetryInterval: .hours(1))).totalAttempts == 6)
    }
}

@Suite("Window state machine")
struct WindowStateMachineTests {
    let now = t("2026-01-01T10:00:00Z")

    func due(_ budget: RetryBudget = RetryBudget(ActivityPolicy())) -> WindowStateMachine {
        var machine = WindowStateMachine(dueAt: now, budget: budget)
        _ = machine.timeArrived(now)
        return machine
    }

    @Test("a window waits for its schedule time, then for its inputs")
    func scheduleTime() {
        var machine = WindowStateMachine(dueAt: now, budget: RetryBudget(ActivityPolicy()))
        #expect(machine.substate == .scheduleTime)
        #expect(!machine.isClaimable(at: now))
        #expect(machine.timeArrived(now - .minutes(1)) == .none)
        #expect(machine.timeArrived(now) == .checkDependencies)
        #expect(machine.status == .waiting && machine.substate == .datasetDependencies)
        #expect(machine.dependenciesReady() == .becameRunnable)
        #expect(machine.substate == nil && machine.isClaimable(at: now))
    }

    @Test("claim → success: Ready")
    func success() {
        var machine = due()
        #expect(machine.claimed(now) == .dispatch(attempt: 1, trigger: .schedule))
        #expect(machine.status == .inProgress)
        #expect(machine.claimed(now) == .none)
        #expect(machine.attemptSucceeded() == .markReady)
        #expect(machine.status == .ready && machine.nextAttemptAt == nil)
    }

    @Test("retryable failures retry at once, then fail")
    func retries() {
        var machine = due(RetryBudget(ActivityPolicy(retry: 1)))
        _ = machine.claimed(now)
        #expect(machine.attemptFailed(.retryable, at: now) == .scheduleRetry(at: now))
        #expect(machine.status == .waiting && machine.substate == .retry && machine.nextTrigger == .retry)
        #expect(machine.claimed(now) == .dispatch(attempt: 2, trigger: .retry))
        #expect(machine.attemptFailed(.retryable, at: now) == .markFailed)
        #expect(machine.status == .failed && machine.substate == nil)
    }

    @Test("terminal failures end the window at once")
    func terminal() {
        var machine = due(RetryBudget(ActivityPolicy(retry: 5)))
        _ = machine.claimed(now)
        #expect(machine.attemptFailed(.terminal, at: now) == .markFailed)
        #expect(machine.attempts == 1 && machine.status == .failed)
    }

    @Test("longRetry: rounds of attempts spaced by the interval")
    func longRetry() {
        var machine = due(RetryBudget(ActivityPolicy(retry: 3, longRetry: 2, longRetryInterval: .hours(1))))
        var actions: [WindowStateMachine.Action] = []
        for _ in 0..<3 {
            _ = machine.claimed(now)
            actions.append(machine.attemptFailed(.retryable, at: now))
        }
        #expect(actions == [.scheduleRetry(at: now), .scheduleRetry(at: now), .scheduleRetry(at: now + .hours(1))])
        #expect(machine.substate == .longRetry && machine.longRetryRound == 1)
        #expect(!machine.isClaimable(at: now + .minutes(59)))
        let later = now + .hours(1)
        for n in 4...6 {
            #expect(machine.claimed(later) == .dispatch(attempt: n, trigger: .retry))
            _ = machine.attemptFailed(.retryable, at: later)
        }
        #expect(machine.status == .failed && machine.attempts == 6)
    }

    @Test("a timeout is a failed attempt; the last one ends Failed/TimedOut")
    func timeout() {
        var machine = due(RetryBudget(ActivityPolicy(retry: 1)))
        _ = machine.claimed(now)
        #expect(machine.attemptTimedOut(at: now) == .scheduleRetry(at: now))
        _ = machine.claimed(now)
        #expect(machine.attemptTimedOut(at: now) == .markFailed)
        #expect(machine.status == .failed && machine.substate == .timedOut)
    }

    @Test("a lost lease counts as an attempt (D5)")
    func leaseExpiry() {
        var machine = due()
        _ = machine.claimed(now)
        #expect(machine.leaseExpired(at: now) == .markFailed)
        var retrying = due(RetryBudget(ActivityPolicy(retry: 1)))
        _ = retrying.claimed(now)
        #expect(retrying.leaseExpired(at: now) == .scheduleRetry(at: now))
        #expect(retrying.attempts == 1)
    }

    @Test("a graceful release gives the attempt back")
    func release() {
        var machine = due()
        _ = machine.claimed(now)
        #expect(machine.released(at: now) == .scheduleRetry(at: now))
        #expect(machine.attempts == 0 && machine.isClaimable(at: now))
    }

    @Test("pause keeps waiting windows waiting; running ones finish (D13)")
    func pause() {
        var waiting = due()
        #expect(waiting.paused() == .none)
        #expect(waiting.substate == .activityResume && !waiting.isClaimable(at: now))
        #expect(waiting.claimed(now) == .none)
        #expect(waiting.resumed(now) == .checkDependencies)
        var running = due()
        _ = running.claimed(now)
        _ = running.paused()
        #expect(running.status == .inProgress)
        #expect(running.attemptSucceeded() == .markReady)
    }

    @Test("rerun resets a finished window with a fresh budget (D6); refused while running")
    func rerun() {
        var machine = due()
        _ = machine.claimed(now)
        #expect(machine.rerunRequested(now) == .none)
        _ = machine.attemptFailed(.terminal, at: now)
        #expect(machine.rerunRequested(now + .hours(1)) == .checkDependencies)
        #expect(machine.status == .waiting && machine.attempts == 0 && machine.nextTrigger == .rerun)
        _ = machine.dependenciesReady()
        #expect(machine.claimed(now + .hours(1)) == .dispatch(attempt: 1, trigger: .rerun))
    }

    @Test("superseded and skipped attempts end Skipped")
    func skipped() {
        var machine = due()
        #expect(machine.superseded() == .markSkipped)
        #expect(machine.status == .skipped && machine.substate == .superseded)
        var running = due()
        _ = running.claimed(now)
        #expect(running.attemptSkipped(.superseded) == .markSkipped)
        #expect(running.attemptCanceled() == .none)
        var canceled = due()
        _ = canceled.claimed(now)
        #expect(canceled.attemptCanceled() == .markFailed)
        #expect(canceled.substate == .canceled)
    }

    @Test("labels: DatasetDependencies and ConcurrencyLimit only while Waiting")
    func labels() {
        var machine = due()
        _ = machine.concurrencyLimited()
        #expect(machine.substate == .concurrencyLimit)
        _ = machine.dependenciesMissing()
        #expect(machine.substate == .datasetDependencies)
        _ = machine.claimed(now)
        _ = machine.dependenciesMissing()
        #expect(machine.status == .inProgress && machine.substate == nil)
    }
}

@Suite("External slice checks (§2.2)")
struct ExternalSliceCheckTests {
    let slice = Slice.hour("2026-01-01T10:00:00Z")
    let policy = Dataset.ExternalDataPolicy(dataDelay: .minutes(10), retryInterval: .minutes(1), maximumRetry: 3)
    let file = DataFingerprint(files: [.init(name: "a.csv", size: 2_000_000)])

    @Test("first check at sliceEnd + dataDelay")
    func firstCheck() {
        let check = ExternalSliceCheck(slice: slice, policy: policy, validation: nil)
        #expect(check.nextCheckAt == t("2026-01-01T11:10:00Z"))
        #expect(!check.isCheckDue(at: t("2026-01-01T11:09:59Z")))
        #expect(check.isCheckDue(at: t("2026-01-01T11:10:00Z")))
        #expect(check.isCheckDue(at: t("2026-03-01T00:00:00Z")))
    }

    @Test("absent → retry after retryInterval; maximumRetry checks → Failed/TimedOut")
    func timesOut() {
        var check = ExternalSliceCheck(slice: slice, policy: policy, validation: nil)
        let now = t("2026-01-01T11:10:00Z")
        #expect(check.checked(.absent(detail: "none"), at: now) == .scheduleCheck(at: now + .minutes(1)))
        #expect(check.substate == .validationRetry)
        #expect(check.checked(.failed(message: "503", retryable: true), at: now + .minutes(1)) == .scheduleCheck(at: now + .minutes(2)))
        #expect(check.checked(.absent(detail: "none"), at: now + .minutes(2)) == .markFailed)
        #expect(check.status == .failed && check.substate == .timedOut && check.checkCount == 3)
        #expect(check.checked(.present(file), at: now + .minutes(3)) == .none)
    }

    @Test("present → Ready with fingerprint; too small → Failed/Validation; non-retryable error → Failed")
    func outcomes() {
        var ready = ExternalSliceCheck(slice: slice, policy: policy, validation: .init(minimumSizeMB: 1))
        #expect(ready.checked(.present(file), at: t("2026-01-02")) == .markReady)
        #expect(ready.status == .ready && ready.fingerprint == file)
        var small = ExternalSliceCheck(slice: slice, policy: policy, validation: .init(minimumSizeMB: 10))
        #expect(small.checked(.present(file), at: t("2026-01-02")) == .markFailed)
        #expect(small.substate == .validation)
        var denied = ExternalSliceCheck(slice: slice, policy: policy, validation: nil)
        #expect(denied.checked(.failed(message: "denied", retryable: false), at: t("2026-01-02")) == .markFailed)
        #expect(denied.substate == nil && denied.lastMessage == "denied")
        var timedOut = ExternalSliceCheck(slice: slice, policy: .init(maximumRetry: 1), validation: nil)
        #expect(timedOut.checkTimedOut(at: t("2026-01-02")) == .markFailed)
        #expect(timedOut.substate == .timedOut)
        #expect(timedOut.recheckRequested(t("2026-01-03")) == .scheduleCheck(at: t("2026-01-03")))
        #expect(timedOut.status == .waiting && timedOut.checkCount == 0)
    }
}

@Suite("Dispatch planner")
struct DispatchPlannerTests {
    let a = ActivityKey(pipeline: "P", activity: "A")
    let b = ActivityKey(pipeline: "P", activity: "B")

    func candidates(_ key: ActivityKey, hours: Range<Int>, idBase: Int64) -> [DispatchPlanner.Candidate] {
        hours.map { h in
            .init(id: idBase + Int64(h), key: key, window: Slice(start: t("2026-01-01") + .hours(Int64(h)), end: t("2026-01-01") + .hours(Int64(h + 1))))
        }
    }

    @Test("per-activity concurrency in priority order", arguments: [ActivityPolicy.PriorityOrder.oldestFirst, .newestFirst])
    func order(order: ActivityPolicy.PriorityOrder) {
        let plan = DispatchPlanner(maxParallel: 10).plan(
            candidates: candidates(a, hours: 0..<5, idBase: 0).shuffled(), running: [a: 1], runningHere: 1,
            limits: [a: .init(concurrency: 3, order: order)])
        let hours = plan.start.map { Int($0.id) }
        #expect(hours == (order == .oldestFirst ? [0, 1] : [4, 3]))
        #expect(plan.limited.count == 3)
    }

    @Test("operator priority goes first")
    func priority() {
        var list = candidates(a, hours: 0..<3, idBase: 0)
        list[2].priority = 1
        let plan = DispatchPlanner(maxParallel: 10).plan(candidates: list, running: [:], runningHere: 0,
                                                         limits: [a: .init(concurrency: 1, order: .oldestFirst)])
        #expect(plan.start.map(\.id) == [2])
    }

    @Test("maxParallel is shared round-robin between activities")
    func global() {
        let plan = DispatchPlanner(maxParallel: 3).plan(
            candidates: candidates(a, hours: 0..<4, idBase: 0) + candidates(b, hours: 0..<4, idBase: 100),
            running: [:], runningHere: 0,
            limits: [a: .init(concurrency: 4, order: .oldestFirst), b: .init(concurrency: 4, order: .oldestFirst)])
        #expect(plan.start.map(\.id) == [0, 100, 1])
        #expect(plan.limited.count == 5)
    }
}
