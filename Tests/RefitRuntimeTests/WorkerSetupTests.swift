import Foundation
import RefitCore
import RefitDefinitions
import RefitRuntime
import RefitStore
import RefitWorker
import Testing

/// The composition root without the command line: the example definitions, a SQLite file, the
/// real activities and probes, wired by `WorkerSetup`.
@Suite("RefitRuntime: the worker as the commands build it")
struct WorkerSetupTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("a worker built by WorkerSetup schedules the example pipeline; without its variables, attempts fail retryably and name them")
    func exampleWorker() async throws {
        let schedules = Self.root.appendingPathComponent("schedules").path
        let loaded = DefinitionLoader.load(directory: schedules, environment: [:])
        let factory = try #require(loaded.factory, "\(loaded.diagnostics)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refit-runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try Store.open(path: folder.appendingPathComponent("refit.sqlite").path)
        defer { store.close() }
        // The example reads its endpoints and keys from REFIT_DEMO_* variables; this process has none.
        guard ProcessInfo.processInfo.environment["REFIT_DEMO_TRAINING_JOBS_URL"] == nil else { return }
        let worker = try WorkerSetup.makeWorker(factory: factory, database: .sqlite(store), schedulesDirectory: schedules, maxParallel: 2)
        let report = try await worker.tickAndWait()
        #expect(report.materialized > 0)
        let history = try RunRepository(store).history()
        #expect(!history.isEmpty)
        for run in history {
            #expect(run.status == "Failed" && run.errorClass == "transient", "\(run)")
            #expect(run.errorMessage?.contains("REFIT_DEMO_") == true, "\(String(describing: run.errorMessage))")
        }
        // The definitions were recorded with their hashes.
        #expect(try WorkerSetup.recordDefinitions(factory, database: .sqlite(store)).keys.sorted() == factory.pipelines.keys.sorted())
    }

    @Test("FileShareWakeUps wakes on a file finished in a watched folder")
    func folderWakeUps() async throws {
        // The example definitions, with their file server pointed at a scratch folder.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("refit-runtime-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let schedules = scratch.appendingPathComponent("schedules")
        let data = scratch.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("schedules"), to: schedules)
        let files = schedules.appendingPathComponent("linked-services/demo-files.json")
        let text = try String(contentsOf: files, encoding: .utf8).replacingOccurrences(of: "../.demo/data", with: data.path)
        try text.write(to: files, atomically: true, encoding: .utf8)
        let factory = try #require(DefinitionLoader.load(directory: schedules.path, environment: [:]).factory)
        let wakeUps = FileShareWakeUps(factory: factory, schedulesDirectory: schedules.path)
        defer { wakeUps.stop() }
        let marker = data.appendingPathComponent("landed.csv")
        let woke = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in wakeUps.stream { return true }
                return false
            }
            group.addTask {
                for attempt in 0..<50 {
                    try? Data("x,\(attempt)\n".utf8).write(to: marker)
                    try? await Task.sleep(for: .milliseconds(200))
                }
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(woke, "a file written into the watched folder woke the stream")
    }
}
