import Foundation
import Testing
import RefitTestKit

/// Runs the built `refit` binary from the package root.
func refit(_ arguments: String..., environment: [String: String]? = nil) throws -> ProcessResult {
    try runProcess(BuiltProducts.executable("refit"), arguments, environment: environment,
                   currentDirectory: BuiltProducts.packageRoot)
}

/// Runs blocking work (waiting for a child process) on a thread of its own: these tests run in
/// parallel, and parking Swift's small cooperative pool would delay every other test's timers.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let result: Result<T, any Error> = await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: Result { try body() }) }.start()
    }
    return try result.get()
}

/// `refit(...)` off the cooperative pool.
func refitOffPool(_ arguments: String..., environment: [String: String]? = nil) async throws -> ProcessResult {
    try await offPool {
        try runProcess(BuiltProducts.executable("refit"), arguments, environment: environment,
                       currentDirectory: BuiltProducts.packageRoot)
    }
}

/// One row of `refit history --format json`: one attempt (the documented fields).
struct HistoryRow: Decodable, CustomStringConvertible {
    var runId: String
    var pipeline: String
    var activity: String
    var windowStart: String
    var windowEnd: String
    var attempt: Int
    var trigger: String
    var status: String
    var substatus: String?
    var startedAt: String
    var endedAt: String?
    var error: String?
    var errorClass: String?
    var externalJobId: String?
    var description: String { "\(activity)@\(windowStart) #\(attempt) \(status)/\(substatus ?? "-") \(error ?? "")" }
}

/// One row of `refit slices --format json`: an activity window or an external data slice.
struct SliceRow: Decodable, CustomStringConvertible {
    var kind: String
    var activity: String?
    var dataset: String?
    var sliceStart: String
    var status: String
    var substatus: String?
    var attempts: Int
    var message: String?
    var changedAt: String?
    var description: String { "\(kind) \(activity ?? dataset ?? "-")@\(sliceStart) \(status)/\(substatus ?? "-") #\(attempts) \(message ?? "")" }
}

/// A scratch folder of definitions for one test, removed at the end.
struct ScratchSchedules {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("refit-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func write(_ relativePath: String, _ contents: String) throws {
        let url = root.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Copies the repository's example schedules in, to start from a valid factory.
    func copyExample() throws {
        let source = BuiltProducts.packageRoot.appendingPathComponent("schedules")
        for case let file as URL in FileManager.default.enumerator(at: source, includingPropertiesForKeys: nil) ?? FileManager.DirectoryEnumerator() {
            guard file.pathExtension == "json" else { continue }
            let relative = String(file.path.dropFirst(source.path.count + 1))
            try write(relative, String(contentsOf: file, encoding: .utf8))
        }
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

extension ScratchSchedules {
    /// The repository's example schedules in a scratch folder, reading their data from `data/`
    /// inside it.
    static func example() throws -> ScratchSchedules {
        let folder = try ScratchSchedules()
        try folder.copyExample()
        try folder.useLocalDataHost()
        return folder
    }

    /// The database path inside this folder.
    var database: String { root.appendingPathComponent("refit.sqlite").path }

    /// Points the example's FileShare host at `data/` inside this folder (relative to the
    /// schedules folder, so parallel tests never share files).
    func useLocalDataHost() throws {
        try write("linked-services/demo-files.json", """
            {"name": "DemoFiles", "properties": {"type": "OnPremisesFileServer", "typeProperties": {"host": "data"}}}
            """)
    }

    /// Hourly training CSVs for 2026-01-01, hours 0..<hours: y = 2·x1 − 0.5·x2 + 3 + hour.
    func writeTrainingSlices(hours: Int) throws {
        for hour in 0..<hours {
            var csv = "x1,x2,y\n"
            for row in 0..<20 {
                let x1 = Double(row), x2 = Double((row * 7) % 11)
                csv += "\(x1),\(x2),\(2.0 * x1 - 0.5 * x2 + 3.0 + Double(hour))\n"
            }
            try write("data/training/2026/01/01/\(hour < 10 ? "0" : "")\(hour).csv", csv)
        }
    }
}

/// The environment the example schedules read, pointed at a running emulator.
func demoEnvironment(_ info: EmulatorProcess.Info) throws -> [String: String] {
    let retrain = try #require(info.endpoint("retrain"))
    var execute = try #require(URLComponents(string: retrain.executeURL))
    execute.query = nil
    let jobs = try #require(execute.url).deletingLastPathComponent().appendingPathComponent("jobs").absoluteString
    var environment = ProcessInfo.processInfo.environment
    environment["REFIT_DEMO_STORAGE_CONNECTION_STRING"] = info.storage.connectionString
    environment["REFIT_DEMO_TRAINING_JOBS_URL"] = info.training.jobsURL
    environment["REFIT_DEMO_TRAINING_API_KEY"] = info.training.apiKey
    environment["REFIT_DEMO_SCORING_JOBS_URL"] = jobs
    environment["REFIT_DEMO_SCORING_API_KEY"] = retrain.apiKey
    environment["REFIT_DEMO_SCORING_MANAGEMENT_URL"] = retrain.managementURL
    return environment
}
