import RefitCore
import RefitTestKit

/// The walk's own state: a seeded generator, the clock, and the runs it started.
struct Walk {
    typealias S = Scenario
    typealias D = DifferentialConformanceTests
    var random: SplitMix64
    var now = Scenario.now
    var runs: [(run: String, worker: String)] = []
    var counter = 0

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &random) }

    mutating func next() -> WalkOperation {
        let key = D.keys[int(0..<D.keys.count)]
        switch int(0..<24) {
        case 0, 1:
            let start = int(0..<D.hours.count)
            return .materialize(key, start..<min(D.hours.upperBound, start + int(1..<4)))
        case 2, 3: return .resolve
        case 4, 5, 6: return .check(pick: int(0..<8), present: int(0..<4) > 0)
        case 7, 8, 9, 10:
            counter += 1
            return .claim(key, worker: int(0..<3) == 0 ? "w2" : "w1", run: "run-\(counter)")
        case 11, 12, 13, 14: return .finish(pick: int(0..<8), outcome: int(0..<8))
        case 15: return .release(pick: int(0..<8))
        case 16: return .renew(pick: int(0..<8))
        case 17: return .recover
        case 18: return .rerun(key, int(0..<D.hours.count))
        case 19: return .pause(int(0..<3) == 0)
        case 20: return int(0..<2) == 0 ? .label(key) : .reset
        case 21: return .endpoint(pick: int(0..<8), model: int(0..<D.hours.count))
        default: return .wait(minutes: Int64(int(1..<40)))
        }
    }

    /// Remembers the runs a claim started and moves the clock; called once per step, after
    /// every store applied the operation.
    mutating func advance(after operation: WalkOperation, answer: String) {
        switch operation {
        case .claim(_, let worker, let run) where answer.hasPrefix("claimed"): runs.append((run, worker))
        case .wait(let minutes): now = now + .minutes(minutes)
        default: break
        }
    }

    /// Mostly one of the last few runs (likely still running), sometimes any earlier one.
    func pickRun(_ pick: Int) -> (run: String, worker: String)? {
        guard !runs.isEmpty else { return nil }
        return pick < 6 ? runs[max(0, runs.count - 1 - pick % 3)] : runs[pick % runs.count]
    }

    func outcome(_ index: Int, run: String, model: Int) -> AttemptOutcome {
        switch index {
        case 0, 1, 2: .succeeded(AttemptResult(outputs: [ProducedOutput(name: "model", location: "models/\(run)")], externalJobID: "job-\(run)"))
        case 3: .succeeded(AttemptResult(deployment: ProducedDeployment(endpoint: "score", modelLocation: "models/\(run)",
                                                                        modelWindow: S.hour(model), reason: "schedule")))
        case 4: .failed(.retryable, message: "flaky")
        case 5: .failed(.terminal, message: "broken")
        case 6: .timedOut(message: "too slow")
        default: .canceled(message: "operator")
        }
    }

    /// Applies the operation to one store and describes its answer.
    func apply(_ operation: WalkOperation, to f: StoreFixture) async throws -> String {
        do {
            return try await answer(operation, f)
        } catch {
            return "error"
        }
    }

    private func answer(_ operation: WalkOperation, _ f: StoreFixture) async throws -> String {
        let store = f.store
        switch operation {
        case .materialize(let key, let hours):
            let windows = hours.map { NewWindow(window: S.hour($0), dueAt: S.hour($0).end, trigger: .schedule) }
            let inserted = try await store.materialize(key, windows: windows, until: S.hour(hours.upperBound - 1).end,
                                                       outputs: D.outputs[key] ?? [], definitionSHA256: S.sha, budget: D.budget, now: now)
            return "\(inserted)"
        case .resolve:
            let unresolved = try await store.unresolvedWindows(limit: 4)
            try await store.recordInputs(unresolved.map { record in
                let index = Int((record.window.start - S.t0).seconds / 3600)
                return WindowInputs(windowID: record.id, inputs: D.inputs(record.key, index))
            }, now: now)
            return "\(unresolved.map(\.id))"
        case .check(let pick, let present):
            let due = try await store.dueChecks(now: now, datasets: ["Raw"], limit: 10)
            guard !due.isEmpty else { return "none due" }
            let slice = due[pick % due.count]
            var check = slice.check(policy: D.policy, validation: nil)
            _ = check.checked(present ? .present(DataFingerprint(files: [.init(name: "raw", size: 1)])) : .absent(detail: "no"), at: now)
            try await store.recordChecks([SliceCheckUpdate(sliceID: slice.id, seenCheckCount: slice.checkCount, check: check)], now: now)
            return "\(due.map(\.id)) checked \(slice.id)"
        case .claim(let key, let worker, let run):
            // The first activity with something runnable, starting from `key`.
            let start = D.keys.firstIndex(of: key) ?? 0
            var candidates: [WindowRecord] = []
            for offset in D.keys.indices where candidates.isEmpty {
                candidates = try await store.candidates(S.query(D.keys[(start + offset) % D.keys.count], limit: 3), now: now)
            }
            guard let first = candidates.first else { return "no candidates" }
            let claimed = try await store.claim(ClaimRequest(windowID: first.id, workerID: worker, runID: run, leaseDuration: .minutes(20),
                                                             concurrency: 2, budget: D.budget, definitionSHA256: S.sha), now: now)
            return "\(claimed == nil ? "refused" : "claimed") \(candidates.map(\.id)) → \(String(describing: claimed))"
        case .finish(let pick, let index):
            guard let picked = pickRun(pick) else { return "no runs" }
            let finished = try await store.finish(runID: picked.run, workerID: picked.worker,
                                                  outcome: outcome(index, run: picked.run, model: pick % 6),
                                                  budget: D.budget, now: now)
            return "\(String(describing: finished))"
        case .release(let pick):
            guard let picked = pickRun(pick) else { return "no runs" }
            try await store.release(runID: picked.run, workerID: picked.worker, budget: D.budget, now: now)
            return "released"
        case .renew(let pick):
            guard let picked = pickRun(pick), let record = try f.inspector.run(id: picked.run) else { return "no runs" }
            return "\(try await store.renewLease(windowID: record.windowID, workerID: picked.worker, until: now + .minutes(20), now: now))"
        case .recover:
            return "\(try await store.recoverExpiredLeases(now: now) { _ in D.budget })"
        case .rerun(let key, let index):
            return "\(try await store.rerun(key, start: S.hour(index).start, budget: D.budget, reason: "walk", now: now))"
        case .pause(let paused):
            try f.inspector.setPaused("P", paused, now: now)
            return "\(try await store.pausedPipelines().sorted()) \(try await store.applyPause(pipeline: "P", paused: paused, now: now))"
        case .label(let key):
            return "\(try await store.labelConcurrencyLimited(S.query(key), limit: 100, now: now))"
        case .reset:
            return "\(try await store.resetInputs(pipeline: "P", now: now))"
        case .endpoint(let pick, let model):
            guard let picked = pickRun(pick) else { return "no runs" }
            return "\(try await store.claimEndpoint("score", runID: picked.run, modelWindowStart: S.hour(model).start, now: now))"
        case .wait(let minutes):
            return "waited \(minutes)"
        }
    }
}
