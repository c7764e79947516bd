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

    /// A copy of the example definitions in `folder/schedules`, whose file server is `folder/data`.
    static func scratchSchedules(in folder: URL) throws -> URL {
        let schedules = folder.appendingPathComponent("schedules")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: root.appendingPathComponent("schedules"), to: schedules)
        let files = schedules.appendingPathComponent("linked-services/demo-files.json")
        let text = try String(contentsOf: files, encoding: .utf8)
            .replacingOccurrences(of: "../.demo/data", with: folder.appendingPathComponent("data").path)
        try text.write(to: files, atomically: true, encoding: .utf8)
        return schedules
    }

    @Test("a worker built by WorkerSetup schedules the example pipeline; without its variables, attempts fail retryably and name them")
    func exampleWorker() async throws {
        // The example definitions, their file server pointed at a scratch folder with the first
        // hour's training data.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refit-runtime-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let schedules = try Self.scratchSchedules(in: folder).path
        let data = folder.appendingPathComponent("data/training/2026/01/01")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data("x1,x2,y\n1,2,3\n2,3,4\n".utf8).write(to: data.appendingPathComponent("00.csv"))
        let loaded = DefinitionLoader.load(directory: schedules, environment: [:])
        let factory = try #require(loaded.factory, "\(loaded.diagnostics)")
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
        let schedules = try Self.scratchSchedules(in: scratch)
        let data = scratch.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
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
