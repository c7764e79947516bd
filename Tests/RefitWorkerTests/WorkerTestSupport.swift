import Foundation
import Logging
import RefitCore
import RefitStore
import RefitTestKit
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

func quietLogger() -> Logger {
    var logger = Logger(label: "refit.worker.test")
    logger.logLevel = ProcessInfo.processInfo.environment["REFIT_TEST_LOG"] != nil ? .debug : .critical
    return logger
}

func makeWorker(_ factory: Factory, store: Store, runner: any ActivityRunner, clock: ManualWallClock,
                location: InMemoryLocation? = nil, id: String = "w1", maxParallel: Int = 16,
                leaseDuration: TimeSpan = .minutes(5)) -> Worker {
    Worker(factory: factory, store: SQLiteSchedulingStore(store), runner: runner, locations: { _ in location }, clock: clock,
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
