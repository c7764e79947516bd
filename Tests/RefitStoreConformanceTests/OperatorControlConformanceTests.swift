import RefitCore
import Testing

/// Operator controls: pause and resume labels, reruns.
@Suite("SchedulingStore conformance: operator controls")
struct OperatorControlConformanceTests {
    typealias S = Scenario

    @Test("rerun: Waiting with a fresh budget, trigger rerun, operator priority until claimed", arguments: StoreKind.allCases)
    func rerun(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let records = try await f.runnable(S.train, hours: 0..<3, outputs: ["Model"])
        try await f.run(S.train, 0, run: "ok")
        try await f.run(S.train, 1, run: "bad", .failed(.retryable, message: "flaky"))
        #expect(try await f.record(S.train, 1).status == .failed)
        _ = try #require(try await f.claim(records[2].id, run: "busy"))
        let later = S.now + .hours(1)
        #expect(try await f.store.rerun(S.train, start: S.hour(0).start, budget: S.once, reason: "data fixed", now: later))
        #expect(try await f.store.rerun(S.train, start: S.hour(1).start, budget: S.once, reason: "data fixed", now: later))
        #expect(try await !f.store.rerun(S.train, start: S.hour(2).start, budget: S.once, reason: "running", now: later))
        #expect(try await !f.store.rerun(S.train, start: S.hour(9).start, budget: S.once, reason: "none", now: later))
        for index in 0..<2 {
            let window = try await f.record(S.train, index)
            #expect(window.status == .waiting && window.substate == nil)
            #expect(window.attempts == 0 && window.longRetryRound == 0)
            #expect(window.nextTrigger == .rerun && window.nextAttemptAt == later && window.priority == 1)
        }
        let again = try #require(try await f.claim(records[1].id, run: "bad-rerun", now: later))
        #expect(again.attempt == 1 && again.trigger == .rerun)
        #expect(try await f.store.window(id: records[1].id)?.priority == 0)
        #expect(try f.inspector.runs(windowID: records[1].id).map(\.runID) == ["bad", "bad-rerun"])
    }

    @Test("rerunning a Ready producer takes its output away from consumers until it is Ready again", arguments: StoreKind.allCases)
    func rerunDropsDownstream(_ kind: StoreKind) async throws {
        let f = try kind.make()
        try await f.runnable(S.train, hours: 0..<1, outputs: ["Model"])
        try await f.run(S.train, 0, run: "t1")
        try await f.materialize(S.deploy, hours: 0..<2, outputs: ["Deployed"])
        try await f.resolve(S.deploy, hours: 0..<2) { _ in [S.produced("Model", 0)] }
        try await f.run(S.deploy, 1, run: "d1")
        #expect(try await f.record(S.deploy, 0).missingInputs == 0)
        #expect(try await f.store.rerun(S.train, start: S.hour(0).start, budget: S.once, reason: "fix", now: S.now))
        let waiting = try await f.record(S.deploy, 0)
        #expect(waiting.missingInputs == 1 && waiting.substate == .datasetDependencies)
        let done = try await f.record(S.deploy, 1)
        #expect(done.missingInputs == 1 && done.status == .ready && done.substate == nil)
        #expect(try await f.store.candidates(S.query(S.deploy), now: S.now).isEmpty)
        try await f.run(S.train, 0, run: "t2")
        #expect(try await f.record(S.deploy, 0).missingInputs == 0)
        #expect(try await f.record(S.deploy, 0).substate == nil)
        #expect(try await f.candidateStarts(S.query(S.deploy)) == [S.hour(0).start])
        // Rerunning a window that was not Ready changes nobody's count.
        try await f.run(S.deploy, 0, run: "d0", .failed(.terminal, message: "no"))
        try await f.materialize(S.score, hours: 0..<1)
        try await f.resolve(S.score, hours: 0..<1) { [S.produced("Deployed", $0)] }
        #expect(try await f.store.rerun(S.deploy, start: S.hour(0).start, budget: S.once, reason: "fix", now: S.now))
        #expect(try await f.record(S.score, 0).missingInputs == 1)
    }

    @Test("rerun checks the window's failed external input slices again", arguments: StoreKind.allCases)
    func rerunRearmsSlices(_ kind: StoreKind) async throws {
        let f = try kind.make()
        let policy = Dataset.ExternalDataPolicy(retryInterval: .minutes(5), maximumRetry: 1)
        try await f.materialize(S.train, hours: 0..<1, outputs: ["Model"])
        try await f.resolve(S.train, hours: 0..<1) { [S.external("Raw", $0, policy: policy), S.external("Raw", $0 + 1, policy: policy)] }
        let slices = try f.inspector.slices(datasets: ["Raw"])
        var failed = slices[0].check(policy: policy, validation: nil)
        #expect(failed.checked(.absent(detail: "no file"), at: S.now) == .markFailed)
        var waiting = slices[1].check(policy: Dataset.ExternalDataPolicy(retryInterval: .minutes(5), maximumRetry: 3), validation: nil)
        _ = waiting.checked(.absent(detail: "no file yet"), at: S.now)
        try await f.store.recordChecks([SliceCheckUpdate(sliceID: slices[0].id, seenCheckCount: 0, check: failed),
                                        SliceCheckUpdate(sliceID: slices[1].id, seenCheckCount: 0, check: waiting)], now: S.now)
        #expect(try f.inspector.slices(datasets: ["Raw"]).map(\.status) == [.failed, .waiting])
        let later = S.now + .hours(1)
        #expect(try await f.store.rerun(S.train, start: S.hour(0).start, budget: S.once, reason: "late data", now: later))
        let rearmed = try f.inspector.slices(datasets: ["Raw"])
        #expect(rearmed[0].status == .waiting && rearmed[0].substate == .validation && rearmed[0].checkCount == 0)
        #expect(rearmed[0].nextCheckAt == later && rearmed[0].message == nil)
        // A slice still being checked keeps its count.
        #expect(rearmed[1].status == .waiting && rearmed[1].checkCount == 1)
        #expect(try await f.store.dueChecks(now: later, datasets: ["Raw"], limit: 10).map(\.id) == [slices[1].id, slices[0].id])
        #expect(try await f.record(S.train, 0).missingInputs == 2)
    }

    @Test("pause labels Waiting windows ActivityResume; resume labels them by their inputs", arguments: StoreKind.allCases)
    func pauseAndResume(_ kind: StoreKind) async throws {
        let f = try kind.make()
        #expect(try await f.store.pausedPipelines().isEmpty)
        try f.inspector.setPaused("P", true, now: S.now)
        #expect(try await f.store.pausedPipelines() == ["P"])
        try f.inspector.setPaused("P", false, now: S.now)
        #expect(try await f.store.pausedPipelines().isEmpty)

        let records = try await f.runnable(S.train, hours: 0..<2, outputs: ["Model"])
        try await f.materialize(S.train, hours: 2..<4, outputs: ["Model"])
        try await f.resolve(S.train, hours: 2..<3) { [S.external("Raw", $0)] }
        try await f.run(S.train, 1, run: "r1")
        _ = try #require(try await f.claim(records[0].id, run: "r0"))
        try await f.runnable(S.score, hours: 0..<1)
        #expect(try await f.store.applyPause(pipeline: "P", paused: true, now: S.now) == 2)
        #expect(try await f.store.applyPause(pipeline: "P", paused: true, now: S.now) == 0)
        #expect(try await f.records(S.train, hours: 0..<4).map(\.substate) == [nil, nil, .activityResume, .activityResume])
        #expect(try await f.record(S.score, 0).substate == nil)
        // A running attempt is not paused: it finishes normally.
        try await f.finish("r0")
        #expect(try await f.store.applyPause(pipeline: "P", paused: false, now: S.now) == 2)
        #expect(try await f.store.applyPause(pipeline: "P", paused: false, now: S.now) == 0)
        #expect(try await f.records(S.train, hours: 0..<4).map(\.substate) == [nil, nil, .datasetDependencies, .datasetDependencies])
        // Runnable windows come back runnable.
        try await f.runnable(S.train, hours: 4..<5, outputs: ["Model"])
        _ = try await f.store.applyPause(pipeline: "P", paused: true, now: S.now)
        #expect(try await f.store.candidates(S.query(S.train), now: S.now).isEmpty)
        _ = try await f.store.applyPause(pipeline: "P", paused: false, now: S.now)
        #expect(try await f.record(S.train, 4).substate == nil)
        #expect(try await f.candidateStarts(S.query(S.train)) == [S.hour(4).start])
    }
}
