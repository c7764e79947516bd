import RefitCore
import Testing

/// Seeded random walks through the whole protocol, applied step by step to every store kind:
/// after each step the answers and every row the tests can see must be the same. This finds
/// divergences no hand-written scenario thought of; a failing seed replays exactly.
@Suite("SchedulingStore conformance: every store agrees step by step")
struct DifferentialConformanceTests {
    typealias S = Scenario
    static let hours = 0..<6
    static let keys = [S.train, S.deploy, S.score]
    static let outputs: [ActivityKey: [String]] = [S.train: ["Model"], S.deploy: ["Deployed"], S.score: []]
    static let budget = RetryBudget(attemptsPerRound: 2, rounds: 2, roundInterval: .minutes(30))
    static let policy = Dataset.ExternalDataPolicy(retryInterval: .minutes(10), maximumRetry: 2)

    /// Train reads Raw; Deploy reads Model; Score (another pipeline) reads Deployed and Raw.
    static func inputs(_ key: ActivityKey, _ index: Int) -> [InputSlice]? {
        switch key {
        case S.train: [S.external("Raw", index, policy: policy)]
        case S.deploy: [S.produced("Model", index)]
        default: index == 5 ? nil : [S.produced("Deployed", index), S.external("Raw", index, policy: policy)]
        }
    }

    @Test("seeded random walks", arguments: Array(UInt64(1)...8))
    func randomWalk(seed: UInt64) async throws {
        let fixtures = try StoreKind.allCases.map { try $0.make() }
        var walk = Walk(seed: seed)
        for step in 0..<120 {
            let operation = walk.next()
            var answers: [String] = []
            for f in fixtures { answers.append(try await walk.apply(operation, to: f)) }
            walk.advance(after: operation, answer: answers[0])
            #expect(Set(answers).count == 1, "seed \(seed) step \(step) \(operation): \(answers)")
            let views = try await fixtures.asyncMap { try await View($0, now: walk.now) }
            #expect(Set(views).count == 1, "seed \(seed) step \(step) \(operation): state differs")
            // The stores agree, so checking the invariants on one checks them on all.
            let broken = views[0].violations()
            #expect(broken.isEmpty, "seed \(seed) step \(step) \(operation): \(broken)")
            if Set(answers).count != 1 || Set(views).count != 1 || !broken.isEmpty { return }
        }
    }

    /// Everything the protocol and the inspector show of a store, read once per step.
    struct View: Hashable {
        var windows: [ActivityKey: [Int: WindowRecord]] = [:]
        var runs: [RunSnapshot]
        var raw: [SliceRecord]
        var running: [String]
        var nextWake: Instant?
        var nextCheck: Instant?
        var unresolved: [Int64]
        var candidates: [ActivityKey: [Int64]] = [:]
        var now: Instant

        init(_ f: StoreFixture, now: Instant) async throws {
            for key in keys {
                for index in hours {
                    windows[key, default: [:]][index] = try await f.store.window(key, start: S.hour(index).start)
                }
            }
            runs = try f.inspector.runs()
            raw = try f.inspector.slices(datasets: ["Raw"])
            running = try await f.store.runningCounts().sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            nextWake = try await f.store.nextWakeTime(after: now, workerID: "w1")
            nextCheck = try await f.store.nextCheckTime(datasets: ["Raw"])
            unresolved = try await f.store.unresolvedWindows(limit: 100).map(\.id)
            for key in keys { candidates[key] = try await f.store.candidates(S.query(key), now: now).map(\.id) }
            self.now = now
        }

        /// The invariants of incremental readiness and leases, recomputed from scratch: a
        /// resolved window's missing count is the number of its inputs not Ready now (external
        /// slices by their row, produced slices by their producing window); labels agree with
        /// the count; a window is InProgress exactly while it holds a lease and one open run.
        func violations() -> [String] {
            let producers = ["Model": S.train, "Deployed": S.deploy]
            let rawStatus = Dictionary(raw.map { ($0.slice.start, $0.status) }, uniquingKeysWith: { a, _ in a })
            let open = Dictionary(grouping: runs.filter { $0.status == .inProgress }, by: \.windowID)
            var found: [String] = []
            for key in keys {
                for index in hours {
                    guard let record = windows[key]?[index] else { continue }
                    let name = "\(key)@\(index)"
                    if let missing = record.missingInputs {
                        let expected = inputs(key, index).map { inputs in
                            inputs.filter { input in
                                if input.external != nil { return rawStatus[input.slice.start] != .ready }
                                let hour = Int((input.slice.start - S.t0).seconds / 3600)
                                return producers[input.dataset].flatMap { windows[$0]?[hour] }?.status != .ready
                            }.count
                        } ?? 1
                        if missing != expected { found.append("\(name) missing \(missing), expected \(expected)") }
                        if record.status == .waiting && missing == 0 && record.substate == .datasetDependencies {
                            found.append("\(name) has nothing missing but waits for dependencies")
                        }
                        if record.status == .waiting && missing > 0 && (record.substate == nil || record.substate == .concurrencyLimit) {
                            found.append("\(name) misses \(missing) inputs but is labelled \(String(describing: record.substate))")
                        }
                    }
                    let openRuns = open[record.id]?.count ?? 0
                    if (record.status == .inProgress) != (record.leaseOwner != nil) || (record.status == .inProgress ? 1 : 0) != openRuns {
                        found.append("\(name) \(record.status) with lease \(String(describing: record.leaseOwner)) and \(openRuns) open runs")
                    }
                    if record.attempts > budget.totalAttempts { found.append("\(name) made \(record.attempts) attempts") }
                }
                // Candidates: exactly the claimable windows, operator priority first, then oldest first.
                let claimable = (windows[key] ?? [:]).values.filter { record in
                    guard record.status == .waiting, record.missingInputs == 0, record.leaseOwner == nil,
                          let next = record.nextAttemptAt, next <= now,
                          record.substate != .activityResume, record.substate != .scheduleTime else { return false }
                    return true
                }.sorted { ($0.priority > $1.priority) || ($0.priority == $1.priority && $0.window.start < $1.window.start) }
                if claimable.map(\.id) != candidates[key] {
                    found.append("\(key) candidates \(candidates[key] ?? []), expected \(claimable.map(\.id))")
                }
            }
            return found
        }
    }
}
