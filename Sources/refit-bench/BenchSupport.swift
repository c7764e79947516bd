import Foundation
import Logging
import RefitCore
import RefitStore
import RefitWorker

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One measured figure of a scenario, e.g. "median tick" = 12.3 ms.
struct Figure: Codable, Sendable {
    var scenario: String
    var measure: String
    var value: Double
    var unit: String
    /// Peak resident set size of the process that ran the scenario (each scenario runs in its own process).
    var peakRSSMiB: Double?
}

/// This process's resource usage so far (`getrusage(RUSAGE_SELF)`); nil when it cannot be read.
func ownResourceUsage() -> rusage? {
    var usage = rusage()
    #if canImport(Glibc)
    let who = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
    let who = RUSAGE_SELF
    #endif
    return getrusage(who, &usage) == 0 ? usage : nil
}

/// User + system CPU time of this process so far, in seconds.
func ownCPUSeconds() -> Double {
    guard let usage = ownResourceUsage() else { return 0 }
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// This executable, to run scenarios and workers in child processes of their own.
func ownExecutableURL() throws -> URL {
    #if os(Linux)
    return URL(fileURLWithPath: "/proc/self/exe")
    #else
    guard let executable = Bundle.main.executableURL else { throw BenchError("cannot find this executable to run child processes") }
    return executable
    #endif
}

/// Peak resident set size of this process so far (getrusage ru_maxrss), in MiB.
func peakRSSMiB() -> Double {
    guard let usage = ownResourceUsage() else { return 0 }
    #if canImport(Darwin)
    return Double(usage.ru_maxrss) / 1_048_576   // bytes on macOS
    #else
    return Double(usage.ru_maxrss) / 1024        // kilobytes on Linux
    #endif
}

/// Wall time of `body` in seconds.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try body()
    return (value, seconds(ContinuousClock.now - start))
}

/// Wall time of an async `body` in seconds.
func measureAsync<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try await body()
    return (value, seconds(ContinuousClock.now - start))
}

func seconds(_ duration: Duration) -> Double {
    let (s, attoseconds) = duration.components
    return Double(s) + Double(attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func progress(_ message: String) {
    FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
}

/// A scratch folder with a real SQLite file (WAL, like production), removed at the end.
final class ScratchDatabase {
    let folder: URL
    var path: String { folder.appendingPathComponent("refit.sqlite").path }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("refit-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func open() throws -> Store { try Store.open(path: path) }

    deinit { try? FileManager.default.removeItem(at: folder) }
}

/// Answers "absent" for every slice: data that never lands.
struct AbsentLocation: StorageLocation {
    func probe(_ slices: [Slice], of dataset: Dataset) async -> [Slice: ProbeOutcome] {
        Dictionary(uniqueKeysWithValues: slices.map { ($0, ProbeOutcome.absent(detail: "no file")) })
    }
}

/// Succeeds at once: measures the worker's own overhead per attempt.
struct TrivialRunner: ActivityRunner {
    func run(_ attempt: AttemptContext) async -> AttemptOutcome { .succeeded(AttemptResult()) }
}

enum BenchDefinitions {
    static let position = SourcePosition(file: "bench", line: 1, column: 1)
    static let origin = Instant(year: 2024, month: 1, day: 1)

    static func hourly(_ name: String, external: Bool = false, externalData: Dataset.ExternalDataPolicy? = nil) -> Dataset {
        Dataset(name: name, kind: .fileShare, linkedServiceName: "Files", location: Dataset.Location(folderPath: "data/\(name)"),
                availability: Availability(frequency: .hour, interval: 1), external: external, externalData: externalData,
                position: position)
    }

    static func activity(_ name: String, inputs: [String], outputs: [String], policy: ActivityPolicy) -> Activity {
        Activity(name: name, typeName: "Command", kind: .command(.init(arguments: ["true"])),
                 inputs: inputs.map { Activity.Input(name: $0, position: position) }, outputs: outputs,
                 linkedServiceName: nil, policy: policy, position: position)
    }

    /// External hourly data → Retrain, active for 20 years from `origin`.
    static func externalChain(retryInterval: TimeSpan) -> Factory {
        let training = hourly("Training", external: true,
                              externalData: Dataset.ExternalDataPolicy(retryInterval: retryInterval, retryTimeout: .minutes(10),
                                                                       maximumRetry: 1_000))
        let pipeline = Pipeline(name: "P", activities: [
            activity("Retrain", inputs: ["Training"], outputs: ["Model"], policy: ActivityPolicy(concurrency: 4)),
        ], start: origin, end: origin + .days(20 * 366), position: position)
        return Factory(datasets: ["Training": training, "Model": hourly("Model")], pipelines: ["P": pipeline])
    }

    /// One activity without inputs: every due window is runnable at once.
    static func standalone(concurrency: Int) -> Factory {
        let pipeline = Pipeline(name: "P", activities: [
            activity("Job", inputs: [], outputs: ["Out"], policy: ActivityPolicy(concurrency: concurrency)),
        ], start: origin, end: origin + .days(20 * 366), position: position)
        return Factory(datasets: ["Out": hourly("Out")], pipelines: ["P": pipeline])
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "refit.bench")
    logger.logLevel = .critical
    return logger
}

func makeWorker(_ factory: Factory, store: Store, clock: ManualWallClock, maxParallel: Int = 16,
                materializationBatch: Int = 5_000) -> Worker {
    // The bench never moves its manual clock while attempts run, so the worker's sleeps last
    // until they are canceled (the attempt finished first) unless their instant has passed.
    Worker(factory: factory, store: SQLiteSchedulingStore(store), runner: TrivialRunner(), locations: { _ in AbsentLocation() }, clock: clock,
           configuration: WorkerConfiguration(workerID: "bench", maxParallel: maxParallel,
                                              materializationBatch: materializationBatch),
           logger: quietLogger())
}
