import Foundation
import Testing
import RefitTestKit

/// A scratch copy of the example pipeline against a fresh emulator, for the operator command
/// tests: `hours` hourly training slices, and the pipeline's active period set to `[start, end)`.
struct OperatorFixture {
    let emulator: EmulatorProcess
    let folder: ScratchSchedules
    let environment: [String: String]

    static let pipelinePath = "pipelines/retrain-pipeline.json"

    static func start(hours: Int, start: String, end: String, emulatorArguments: [String] = ["--job-duration", "0"]) async throws -> OperatorFixture {
        let emulator = try await EmulatorProcess.start(arguments: emulatorArguments)
        let folder = try ScratchSchedules.example()
        try folder.writeTrainingSlices(hours: hours)
        let fixture = OperatorFixture(emulator: emulator, folder: folder, environment: try demoEnvironment(emulator.info))
        try fixture.setPeriod(start: start, end: end)
        return fixture
    }

    /// Rewrites the pipeline's `start` and `end`.
    func setPeriod(start: String, end: String) throws {
        let source = BuiltProducts.packageRoot.appendingPathComponent("schedules").appendingPathComponent(Self.pipelinePath)
        let original = try String(contentsOf: source, encoding: .utf8)
        try folder.write(Self.pipelinePath, original
            .replacingOccurrences(of: #""start": "2026-01-01T00:00:00Z""#, with: "\"start\": \"\(start)\"")
            .replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#, with: "\"end\": \"\(end)\""))
    }

    func stop() {
        emulator.stop()
        folder.remove()
    }

    /// `refit COMMAND --schedules … --db … ARGS` (commands that read definitions).
    func refitWithDefinitions(_ command: String, _ arguments: String...) async throws -> ProcessResult {
        let all = [command, "--schedules", folder.root.path, "--db", folder.database] + arguments
        let environment = self.environment
        return try await offPool {
            try runProcess(BuiltProducts.executable("refit"), all, environment: environment, currentDirectory: BuiltProducts.packageRoot)
        }
    }

    /// `refit COMMAND --db … ARGS` (commands that only read the database).
    func refitDatabase(_ command: String, _ arguments: String...) async throws -> ProcessResult {
        let all = [command, "--db", folder.database] + arguments
        let environment = self.environment
        return try await offPool {
            try runProcess(BuiltProducts.executable("refit"), all, environment: environment, currentDirectory: BuiltProducts.packageRoot)
        }
    }

    func tick() async throws -> ProcessResult { try await refitWithDefinitions("tick") }

    /// `refit slices --format json` as rows.
    func slices() async throws -> [SliceRow] {
        let result = try await refitWithDefinitions("slices", "--pipeline", "RetrainPipeline", "--format", "json")
        return try JSONDecoder().decode([SliceRow].self, from: Data(result.stdout.utf8))
    }

    /// The window row of `activity` starting `start`.
    func window(_ activity: String, _ start: String) async throws -> SliceRow? {
        try await slices().first { $0.kind == "window" && $0.activity == activity && $0.sliceStart == start }
    }

    func history() async throws -> [HistoryRow] {
        let result = try await refitDatabase("history", "--format", "json")
        return try JSONDecoder().decode([HistoryRow].self, from: Data(result.stdout.utf8))
    }

    /// The database as the read commands show it (history and slices), to prove a refused
    /// command changed nothing.
    func snapshot() async throws -> String {
        let history = try await refitDatabase("history", "--format", "json").stdout
        let slices = try await refitWithDefinitions("slices", "--pipeline", "RetrainPipeline", "--format", "json").stdout
        let backfills = try await refitDatabase("backfills", "--format", "json").stdout
        return history + slices + backfills
    }
}

/// Expects a refusal: the exit code, one sentence (one line) on stderr containing `text`.
func expectRefused(_ result: ProcessResult, code: Int32, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.exitCode == code, "exit \(result.exitCode), stderr: \(result.stderr)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "one sentence on stderr: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains(text), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
}
