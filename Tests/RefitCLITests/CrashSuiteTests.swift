import Foundation
import RefitPostgres
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import RefitTestKit

/// The real `refit run` against the real emulator, killed with SIGKILL and restarted:
/// - at forced points: between a BES submit taking effect and its job id being journaled, between
///   a job start and its journal entry, between a PATCH taking effect and its journal entry (the
///   emulator's `hold` fault keeps the answer back while the test kills the worker);
/// - at seeded random times;
/// - with two workers sharing one database, one of them killed and restarted.
/// Whatever a crash interrupted, every window must end Ready or Skipped (Superseded), no
/// attempt stays open, every attempt a worker started is in history, each update window deploys
/// at most once, deployments only move forward (D14) and the newest window's model serves.
@Suite("refit run crash suite (emulator)", .serialized, .timeLimit(.minutes(4)))
struct CrashSuiteTests {
    @Test("forced kills: after a submit takes effect, after a start, after a PATCH — each before the worker journals it")
    func forcedKillPoints() async throws {
        let scenario = try await CrashScenario.start(hours: 4, retrainConcurrency: 1)
        defer { scenario.cleanup() }

        // 1. Between submit and journal: the emulator has created the job; its id never reaches the journal.
        try await scenario.emulator.setFaults(#"{"plans":[{"operation":"submit","holdMs":60000,"count":1}]}"#)
        var worker = try scenario.startWorker()
        #expect(try await scenario.waitForOperations(seconds: 60) { $0.contains { $0.op == "submit" && $0.fault == "hold" } },
                "no held submit: \(scenario.emulator.stderrTailText.suffix(300))")
        await scenario.kill(worker)

        // 2. Between start and journal.
        try await scenario.emulator.setFaults(#"{"plans":[{"operation":"start","holdMs":60000,"count":1}]}"#)
        worker = try scenario.startWorker()
        #expect(try await scenario.waitForOperations(seconds: 60) { $0.contains { $0.op == "start" && $0.fault == "hold" } })
        await scenario.kill(worker)

        // 3. Between PATCH and journal: the endpoint already serves the new model; the worker never learns it.
        try await scenario.emulator.setFaults(#"{"plans":[{"operation":"patch","holdMs":60000,"count":1}]}"#)
        worker = try scenario.startWorker()
        #expect(try await scenario.waitForOperations(seconds: 90) { $0.contains { $0.op == "patch" && $0.fault == "hold" } })
        await scenario.kill(worker)
        try await scenario.emulator.clearFaults()

        let history = try await scenario.converge()
        try await scenario.checkInvariants(history: history)

        // Retrain concurrency is 1, so a crash interrupts at most one submit: at most one extra
        // submit per crash, and every input submitted twice was resubmitted by an attempt that
        // says the first job may be orphaned.
        let operations = try await scenario.emulator.operations()
        let submits = operations.filter { $0.op == "submit" }
        #expect(submits.count <= scenario.hours + scenario.kills.count, "submits: \(submits.map { $0.resourceLocation ?? "-" })")
        let heldSubmit = try #require(submits.first { $0.fault == "hold" })
        #expect(submits.filter { $0.resourceLocation == heldSubmit.resourceLocation }.count == 2,
                "the input whose submit was cut off is submitted exactly once more")
        for (input, count) in Dictionary(grouping: submits, by: { $0.resourceLocation ?? "" }).mapValues(\.count) where count > 1 {
            let hour = try #require(scenario.hourStamp(in: input))
            let rows = history.filter { $0.activity == "Retrain" && $0.windowStart == String(format: "2026-01-01T%02d:00:00Z", hour) }
            var shown: [String] = []
            for row in rows {
                shown.append(try await refitOffPool("show", row.runId, "--db", scenario.db, "--format", "json", environment: scenario.environment).stdout)
            }
            #expect(shown.contains { $0.contains("orphaned") }, "\(input) was submitted \(count) times without an orphan note")
        }
        // Once a job id is journaled it is never resubmitted: the job whose start was cut off at
        // crash 2 is the last job of its input.
        let heldStart = try #require(operations.first { $0.op == "start" && $0.fault == "hold" })
        let startedInput = try #require(submits.first { $0.jobId == heldStart.jobId }?.resourceLocation)
        #expect(submits.last { $0.resourceLocation == startedInput }?.jobId == heldStart.jobId,
                "\(startedInput) was resubmitted after its job id was journaled")
    }

    @Test("random kills (seeded): SIGKILL at random moments, five times, then converge")
    func randomKillPoints() async throws {
        let seed = ProcessInfo.processInfo.environment["REFIT_CRASH_SEED"].flatMap(UInt64.init) ?? 0x5EED_2026
        var random = SplitMix64(seed: seed)
        let scenario = try await CrashScenario.start(hours: 6, retrainConcurrency: 4)
        defer { scenario.cleanup() }
        for _ in 0..<5 {
            let worker = try scenario.startWorker()
            let delay = 0.2 + Double(random.next() % 2_300) / 1_000 // 0.2 … 2.5 s
            try await Task.sleep(for: .seconds(delay))
            await scenario.kill(worker)
        }
        let history = try await scenario.converge()
        try await scenario.checkInvariants(history: history, seedNote: "REFIT_CRASH_SEED=\(seed)")
        // A crash can cost at most one submit per attempt it interrupted (≤ concurrency 4).
        let submits = try await scenario.emulator.operations("submit")
        #expect(submits.count <= scenario.hours + 4 * scenario.kills.count, "REFIT_CRASH_SEED=\(seed); submits: \(submits.count)")
    }

    @Test("two workers on one database, one killed and restarted: no window is ever run by both")
    func twoWorkersOneDatabase() async throws {
        let scenario = try await CrashScenario.start(hours: 12, retrainConcurrency: 4, jobDuration: 1)
        defer { scenario.cleanup() }
        // Each worker runs at most 2 attempts at once, so Retrain's concurrency of 4 leaves work for both.
        let first = try scenario.startWorker(["--max-parallel", "2"])
        let second = try scenario.startWorker(["--max-parallel", "2"])
        // Kill the first one once both have started attempts, then bring it back.
        var bothBusy = false
        let until = Date().addingTimeInterval(60)
        while !bothBusy && Date() < until {
            try await Task.sleep(for: .milliseconds(20))
            bothBusy = !first.attempts().isEmpty && !second.attempts().isEmpty
        }
        #expect(bothBusy, "the two workers never both ran attempts; second worker's log: \(second.logTail())")
        await scenario.kill(first)
        _ = try scenario.startWorker(["--max-parallel", "2"])
        let history = try await scenario.converge(keepRunning: [second])
        try await scenario.checkInvariants(history: history)

        try await scenario.checkExclusive(history: history)
    }

    @Test("three workers on one PostgreSQL database, one killed mid-run: no window run by two at once, every attempt in history, deployments only forward")
    func threeWorkersOnPostgres() async throws {
        let database = try ScratchPostgresDatabase(prefix: "refit_crash")
        let scenario = try await CrashScenario.start(hours: 12, retrainConcurrency: 4, jobDuration: 1, database: database.url)
        defer { scenario.cleanup() }
        let workers = try (0..<3).map { _ in try scenario.startWorker(["--max-parallel", "2"]) }
        var busy = 0
        let until = Date().addingTimeInterval(60)
        while busy < 2 && Date() < until {
            try await Task.sleep(for: .milliseconds(20))
            busy = workers.filter { !$0.attempts().isEmpty }.count
        }
        #expect(busy >= 2, "fewer than two workers ran attempts; logs: \(workers.map { $0.logTail() })")
        let victim = try #require(workers.first { !$0.attempts().isEmpty })
        await scenario.kill(victim)
        let history = try await scenario.converge(keepRunning: workers.filter { $0 !== victim })
        try await scenario.checkInvariants(history: history)
        try await scenario.checkExclusive(history: history)
    }
}

// MARK: - The scenario

/// One pipeline of `hours` hourly windows against a fresh emulator, and the `refit run`
/// processes started on it.
final class CrashScenario: @unchecked Sendable {
    let emulator: EmulatorProcess
    let folder: ScratchSchedules
    let environment: [String: String]
    let db: String
    let hours: Int
    private(set) var workers: [WorkerProcess] = []
    private(set) var kills: [(worker: ObjectIdentifier, at: Date)] = []

    private init(emulator: EmulatorProcess, folder: ScratchSchedules, environment: [String: String], db: String, hours: Int) {
        self.emulator = emulator
        self.folder = folder
        self.environment = environment
        self.db = db
        self.hours = hours
    }

    /// The example pipeline cut to `hours` windows, with room in the retry budgets for the crashes
    /// (each one charges the attempts it interrupted, D5).
    static func start(hours: Int, retrainConcurrency: Int, updateConcurrency: Int = 1,
                      jobDuration: Double = 0.3, database: String? = nil) async throws -> CrashScenario {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "\(jobDuration)"])
        let folder = try ScratchSchedules.example()
        let path = "pipelines/retrain-pipeline.json"
        var pipeline = try String(contentsOf: folder.root.appendingPathComponent(path), encoding: .utf8)
        let edits = [
            (#""end": "2026-01-02T00:00:00Z""#, #""end": "2026-01-01T\#(hours < 10 ? "0" : "")\#(hours):00:00Z""#),
            (#""retry": 2,"#, #""retry": 8,"#), (#""retry": 3,"#, #""retry": 8,"#),
            (#""concurrency": 4,"#, #""concurrency": \#(retrainConcurrency),"#),
            (#""concurrency": 1,"#, #""concurrency": \#(updateConcurrency),"#),
        ]
        for (old, new) in edits {
            #expect(pipeline.contains(old), "the example pipeline no longer has \(old)")
            pipeline = pipeline.replacingOccurrences(of: old, with: new)
        }
        try folder.write(path, pipeline)
        try folder.writeTrainingSlices(hours: hours)
        return CrashScenario(emulator: emulator, folder: folder, environment: try demoEnvironment(emulator.info),
                             db: database ?? folder.database, hours: hours)
    }

    /// Kills what is left and stops the emulator on a thread of its own (waiting for processes
    /// must not hold one of the cooperative pool's few threads).
    func cleanup() {
        let workers = self.workers, emulator = self.emulator, folder = self.folder
        Thread {
            for worker in workers { worker.kill9() }
            emulator.stop()
            folder.remove()
        }.start()
    }

    func startWorker(_ extra: [String] = []) throws -> WorkerProcess {
        let worker = try WorkerProcess(
            arguments: ["--schedules", folder.root.path, "--db", db, "--log-format", "json", "--lease-seconds", "3"] + extra,
            environment: environment, logFile: folder.root.appendingPathComponent("worker-\(workers.count).log"))
        workers.append(worker)
        return worker
    }

    func kill(_ worker: WorkerProcess) async {
        _ = try? await offPool { worker.kill9() }
        kills.append((ObjectIdentifier(worker), Date()))
    }

    func killTime(of worker: WorkerProcess) -> Date? {
        kills.first { $0.worker == ObjectIdentifier(worker) }?.at
    }

    /// Polls the operations log until `condition` holds or `seconds` pass; true when it held.
    func waitForOperations(seconds: Double, _ condition: ([EmulatorProcess.Operation]) -> Bool) async throws -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition(try await emulator.operations()) { return true }
            try await Task.sleep(for: .milliseconds(15))
        }
        return false
    }

    /// Starts one more worker (unless `keepRunning` already has live ones), waits until every
    /// window has a finished attempt, then stops every live worker with SIGTERM, expecting exit 0.
    func converge(keepRunning: [WorkerProcess] = [], seconds: Double = 120) async throws -> [HistoryRow] {
        if keepRunning.isEmpty || !workers.contains(where: { $0.isRunning }) { _ = try startWorker() }
        var rows: [HistoryRow] = []
        var finished = false
        let deadline = Date().addingTimeInterval(seconds)
        while !finished && Date() < deadline {
            try await Task.sleep(for: .milliseconds(400))
            let history = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
            guard history.exitCode == 0 else { continue }
            rows = (try? JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))) ?? rows
            let done = { (activity: String, statuses: Set<String>) in
                Set(rows.filter { $0.activity == activity && statuses.contains($0.status) }.map(\.windowStart)).count
            }
            finished = done("Retrain", ["Succeeded"]) == hours && done("UpdateScoringEndpoint", ["Succeeded", "Skipped"]) == hours
        }
        let live = workers.filter { $0.isRunning }
        // A worker started just now may not have its signal handlers yet (a SIGTERM before them
        // ends it by the signal's default action, not with exit 0): wait until it says it started.
        for worker in live { await worker.waitUntilStarted() }
        let statuses = try await offPool { live.map { $0.stop() } }
        #expect(statuses.allSatisfy { $0 == 0 }, "a worker did not exit 0 on SIGTERM: \(statuses)")
        #expect(finished, "not converged; history: \(rows.map { "\($0.activity) \($0.windowStart) #\($0.attempt) \($0.status)" })")
        let final = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
        return (try? JSONDecoder().decode([HistoryRow].self, from: Data(final.stdout.utf8))) ?? rows
    }

    /// Exclusive runs: every attempt is in exactly one worker's log; per window, attempts never
    /// overlap in time (each ends — finishes, or its worker is killed — before the next starts,
    /// whichever worker runs it); and no window was trained twice at once.
    func checkExclusive(history: [HistoryRow]) async throws {
        // Every attempt is in exactly one worker's log.
        let attempts = workers.map { $0.attempts() }
        let owners = Dictionary(grouping: attempts.enumerated().flatMap { index, list in list.map { ($0.runId, index) } },
                                by: \.0).mapValues { $0.map(\.1) }
        #expect(owners.values.allSatisfy { $0.count == 1 }, "a run id in two workers' logs: \(owners.filter { $0.value.count > 1 })")

        // Per window, attempts never overlap in time: each one ends (finishes, or its worker is
        // killed) before the next one starts, whichever worker runs it.
        var intervals: [String: [(start: Date, end: Date, worker: Int)]] = [:]
        for (index, list) in attempts.enumerated() {
            let killedAt = killTime(of: workers[index])
            for attempt in list {
                guard let end = attempt.finished ?? killedAt else {
                    Issue.record("attempt \(attempt.runId) never finished and its worker was not killed"); continue
                }
                intervals["\(attempt.activity) \(attempt.window)", default: []].append((attempt.started, end, index))
            }
        }
        #expect(intervals.count == 2 * hours, "windows seen in the workers' logs: \(intervals.keys.sorted())")
        for (window, list) in intervals {
            let sorted = list.sorted { $0.start < $1.start }
            for (earlier, later) in zip(sorted, sorted.dropFirst()) {
                #expect(earlier.end <= later.start,
                        "\(window): worker \(earlier.worker)'s attempt (until \(earlier.end)) overlaps worker \(later.worker)'s (from \(later.start))")
            }
        }
        let submits = try await emulator.operations("submit")
        let trainingAttempts = history.filter { $0.activity == "Retrain" }.count
        #expect(submits.count <= trainingAttempts, "submits \(submits.count) > Retrain attempts \(trainingAttempts)")
    }

    /// The invariants every crash scenario must keep.
    func checkInvariants(history: [HistoryRow], seedNote: String = "") async throws {
        let slices = try await refitOffPool("slices", "--schedules", folder.root.path, "--db", db, "--pipeline", "RetrainPipeline",
                               "--format", "json", environment: environment)
        #expect(slices.exitCode == 0, "stderr: \(slices.stderr)")
        let windows = try JSONDecoder().decode([SliceRow].self, from: Data(slices.stdout.utf8)).filter { $0.kind == "window" }
        #expect(windows.count == 2 * hours)
        #expect(windows.allSatisfy { $0.status == "Ready" || ($0.status == "Skipped" && $0.substatus == "Superseded") },
                "\(seedNote) windows: \(windows.map { "\($0.sliceStart) \($0.status) \($0.substatus ?? "")" })")

        // No attempt is left open; every attempt a worker logged is in history, once.
        #expect(!history.contains { $0.status == "InProgress" }, "\(seedNote) open attempts remain")
        #expect(Set(history.map(\.runId)).count == history.count)
        let started = Set(workers.flatMap { $0.attempts().map(\.runId) })
        #expect(!started.isEmpty)
        #expect(started.isSubset(of: Set(history.map(\.runId))), "\(seedNote) missing from history: \(started.subtracting(history.map(\.runId)))")

        // Effective deployments (a successful PATCH that changed the serving model), in the
        // emulator's order: at most one per window, only ever to a newer window, ending at the newest.
        let patches = try await emulator.operations("patch").filter { ($0.status.map { (200..<300).contains($0) }) == true }
        var serving: String?
        var effective: [Int] = []
        for patch in patches where patch.resourceLocation != serving {
            serving = patch.resourceLocation
            guard let hour = hourStamp(in: patch.resourceLocation ?? "") else {
                Issue.record("patched model \(patch.resourceLocation ?? "-") names no window"); continue
            }
            effective.append(hour)
        }
        #expect(effective == effective.sorted() && Set(effective).count == effective.count,
                "\(seedNote) deployments went backwards or repeated a window: hours \(effective)")
        #expect(effective.last == hours - 1, "\(seedNote) the newest window's model does not serve; deployments by hour: \(effective)")
        try await expectEndpointServes(hour: hours - 1)
    }

    /// The hour `HH` of the `20260101HH` stamp in a model path.
    func hourStamp(in location: String) -> Int? {
        (0..<24).first { location.contains("20260101\($0 < 10 ? "0" : "")\($0)") }
    }

    private func expectEndpointServes(hour: Int) async throws {
        let retrain = try #require(emulator.info.endpoint("retrain"))
        var request = URLRequest(url: try #require(URL(string: retrain.managementURL)))
        request.setValue("Bearer \(retrain.apiKey)", forHTTPHeaderField: "Authorization")
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let resources = (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["Resources"] as? [[String: Any]]
        let relative = (resources?.first?["Location"] as? [String: Any])?["RelativeLocation"] as? String
        #expect(relative.flatMap(hourStamp(in:)) == hour, "the endpoint serves \(relative ?? "nothing")")
    }
}

/// One `refit run` child process; its stderr (JSON log lines) goes to a file so the test can read
/// which attempts it started and finished even after it was killed.
final class WorkerProcess: @unchecked Sendable {
    let process = Process()
    let logFile: URL

    struct Attempt {
        var runId: String
        var activity: String
        var window: String
        var started: Date
        var finished: Date?
    }

    init(arguments: [String], environment: [String: String], logFile: URL) throws {
        self.logFile = logFile
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = BuiltProducts.executable("refit")
        process.arguments = ["run"] + arguments
        process.environment = environment
        process.currentDirectoryURL = BuiltProducts.packageRoot
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: logFile)
        try launchProcess(process)
    }

    var isRunning: Bool { process.isRunning }

    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        ChildExit.wait(for: process, timeout: .seconds(30))
    }

    /// SIGTERM, then SIGKILL if it has not stopped within `grace` seconds; returns the exit status.
    @discardableResult
    func stop(grace: Double = 20) -> Int32 {
        if process.isRunning { process.terminate() }
        if let status = ChildExit.wait(for: process, timeout: .milliseconds(Int(grace * 1000))) { return status }
        kill(process.processIdentifier, SIGKILL)
        return ChildExit.wait(for: process, timeout: .seconds(30)) ?? -1
    }

    /// Until its log says "worker started" (its service group, and with it the SIGTERM handling,
    /// is running), at most `seconds`.
    func waitUntilStarted(seconds: Double = 30) async {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end, process.isRunning {
            if ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").contains("worker started") { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The end of its log, for failure messages.
    func logTail() -> String {
        String(((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").suffix(1500))
    }

    /// The attempts its log says it started, with when they started and finished.
    func attempts() -> [Attempt] {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var byRun: [String: Attempt] = [:]
        var order: [String] = []
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let runId = object["runId"] as? String, let at = (object["at"] as? String).flatMap({ try? format.parse($0) })
            else { continue }
            switch object["message"] as? String {
            case "attempt started":
                byRun[runId] = Attempt(runId: runId, activity: object["activity"] as? String ?? "", window: object["window"] as? String ?? "",
                                       started: at)
                order.append(runId)
            case "attempt finished":
                byRun[runId]?.finished = at
            default:
                continue
            }
        }
        return order.compactMap { byRun[$0] }
    }
}
