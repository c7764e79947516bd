import Foundation
import Logging
import RefitCore
import RefitStore
import RefitWorker

let testPosition = SourcePosition(file: "test.json", line: 1, column: 1)

func t(_ text: String) -> Instant {
    guard let instant = Instant.parse(text) else { preconditionFailure("bad test time \(text)") }
    return instant
}

extension Slice {
    static func hour(_ start: String) -> Slice { Slice(start: t(start), end: t(start) + .hours(1)) }
}

/// Definitions built in code for worker tests.
enum TestDefinitions {
    static func hourly(_ name: String, external: Bool = false, externalData: Dataset.ExternalDataPolicy? = nil,
                       validation: Dataset.ValidationPolicy? = nil, frequency: Frequency = .hour) -> Dataset {
        Dataset(name: name, kind: .fileShare, linkedServiceName: "Files",
                location: Dataset.Location(folderPath: "data/\(name)"),
                availability: Availability(frequency: frequency, interval: 1), external: external,
                externalData: externalData, validation: validation, position: testPosition)
    }

    static func activity(_ name: String, inputs: [String] = [], outputs: [String], policy: ActivityPolicy = ActivityPolicy()) -> Activity {
        Activity(name: name, typeName: "Command", kind: .command(.init(arguments: ["true"])),
                 inputs: inputs.map { Activity.Input(name: $0, position: testPosition) }, outputs: outputs,
                 linkedServiceName: nil, policy: policy, position: testPosition)
    }

    static func factory(datasets: [Dataset], pipelines: [Pipeline]) -> Factory {
        Factory(datasets: Dictionary(uniqueKeysWithValues: datasets.map { ($0.name, $0) }),
                pipelines: Dictionary(uniqueKeysWithValues: pipelines.map { ($0.name, $0) }))
    }

    static func pipeline(_ name: String, _ activities: [Activity], start: String, end: String, paused: Bool = false) -> Pipeline {
        Pipeline(name: name, activities: activities, start: t(start), end: t(end), isPaused: paused, position: testPosition)
    }
}

/// A scratch folder holding a real SQLite file, removed when released.
final class TestDatabase: @unchecked Sendable {
    let folder: URL
    var path: String { folder.appendingPathComponent("refit.sqlite").path }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("refit-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func open() throws -> Store { try Store.open(path: path) }

    deinit { try? FileManager.default.removeItem(at: folder) }
}

/// An `ActivityRunner` whose outcomes a test scripts: `script(context, callNumber)` per
/// activity call (1-based per window). Records every call in start order.
final class ScriptedRunner: ActivityRunner, @unchecked Sendable {
    struct Call: Hashable, Sendable {
        var activity: String
        var window: Slice
        var attempt: Int
        var trigger: RunTrigger
        var runID: String
    }

    private let lock = NSLock()
    private var calls: [Call] = []
    private var active: [String: Int] = [:]
    private var maximumActive: [String: Int] = [:]
    private let script: @Sendable (AttemptContext, Int) async -> AttemptOutcome

    init(_ script: @escaping @Sendable (AttemptContext, Int) async -> AttemptOutcome = { _, _ in .succeeded(AttemptResult()) }) {
        self.script = script
    }

    func run(_ attempt: AttemptContext) async -> AttemptOutcome {
        let number: Int = lock.withLock {
            calls.append(Call(activity: attempt.activity.name, window: attempt.window, attempt: attempt.attempt,
                              trigger: attempt.trigger, runID: attempt.runID))
            active[attempt.activity.name, default: 0] += 1
            maximumActive[attempt.activity.name] = max(maximumActive[attempt.activity.name] ?? 0, active[attempt.activity.name] ?? 0)
            return calls.filter { $0.activity == attempt.activity.name && $0.window == attempt.window }.count
        }
        let outcome = await script(attempt, number)
        lock.withLock { active[attempt.activity.name, default: 1] -= 1 }
        return outcome
    }

    var recorded: [Call] { lock.withLock { calls } }
    func calls(_ activity: String) -> [Call] { recorded.filter { $0.activity == activity } }
    func maximumConcurrent(_ activity: String) -> Int { lock.withLock { maximumActive[activity] ?? 0 } }
}

/// An in-memory store of slice data: a test "writes" a slice and the probe finds it.
final class InMemoryLocation: StorageLocation, @unchecked Sendable {
    private let lock = NSLock()
    private var files: [Slice: [DataFingerprint.File]] = [:]
    private var probes = 0

    func write(_ slice: Slice, bytes: Int64 = 100) {
        lock.withLock { files[slice] = [.init(name: "data/\(slice.start.iso8601).csv", size: bytes, modified: slice.end.secondsSinceEpoch)] }
    }

    var probeCalls: Int { lock.withLock { probes } }

    func probe(_ slices: [Slice], of dataset: Dataset) async -> [Slice: ProbeOutcome] {
        lock.withLock {
            probes += 1
            var result: [Slice: ProbeOutcome] = [:]
            for slice in slices {
                if let found = files[slice] {
                    result[slice] = .present(DataFingerprint(files: found))
                } else {
                    result[slice] = .absent(detail: "no file for \(slice.start.iso8601)")
                }
            }
            return result
        }
    }
}

/// Sleeps on a manual clock: returns once the test has moved the clock past the instant.
struct ManualSleeper: WorkerSleeper {
    func sleep(until instant: Instant, clock: any WallClock) async throws {
        while clock.now() < instant {
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "refit.worker.test")
    logger.logLevel = ProcessInfo.processInfo.environment["REFIT_TEST_LOG"] != nil ? .debug : .critical
    return logger
}

func makeWorker(_ factory: Factory, store: Store, runner: any ActivityRunner, clock: ManualWallClock,
                location: InMemoryLocation? = nil, id: String = "w1", maxParallel: Int = 16,
                leaseDuration: TimeSpan = .minutes(5)) -> Worker {
    Worker(factory: factory, store: SQLiteSchedulingStore(store), runner: runner, locations: { _ in location }, clock: clock,
           sleeper: ManualSleeper(),
           configuration: WorkerConfiguration(workerID: id, leaseDuration: leaseDuration, leaseRenewalInterval: .minutes(1),
                                              maxParallel: maxParallel),
           logger: quietLogger())
}

/// Ticks and waits until a pass starts nothing (chained windows and immediate retries run).
@discardableResult
func drain(_ worker: Worker, limit: Int = 50) async throws -> [StartedAttempt] {
    var all: [StartedAttempt] = []
    for _ in 0..<limit {
        let report = try await worker.tickAndWait()
        if report.started.isEmpty { break }
        all += report.started
    }
    return all
}
