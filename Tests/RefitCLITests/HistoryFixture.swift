import Foundation
import Testing
import RefitTestKit

/// A run history made once (with the real `refit tick` against the emulator) and shared by the
/// read-side command tests, which only read it or copy it first.
///
/// The example pipeline is cut to three hourly windows. Data lands for hours 0 and 1 only, and
/// the training data's `maximumRetry` is 1, so hour 2's slice fails (TimedOut) at its first
/// check: Retrain 00 and 01 succeed and deploy, Retrain 02 waits on a Failed input slice, and
/// its update window waits on Retrain 02. Every tick runs with `--log-format json`; their
/// stderr is kept for the log format tests.
struct HistoryFixture: Sendable {
    let folder: ScratchSchedules
    let db: String
    /// Stderr of every `refit tick --log-format json`, in order.
    let tickLogs: [String]

    static let shared = Task<HistoryFixture, any Error> { try await make() }

    /// The shared fixture outlives every test, so no test removes it: each test process removes
    /// the fixtures of test processes that have exited.
    static let folderPrefix = "refit-history-fixture-"

    static func make() async throws -> HistoryFixture {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules(fixtureFor: getpid())
        try folder.copyExample()
        try folder.useLocalDataHost()
        let pipelinePath = "pipelines/retrain-pipeline.json", datasetPath = "datasets/training-data.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T03:00:00Z""#))
        let dataset = try String(contentsOf: folder.root.appendingPathComponent(datasetPath), encoding: .utf8)
        try folder.write(datasetPath, dataset.replacingOccurrences(of: #""maximumRetry": 3"#, with: #""maximumRetry": 1"#))
        try folder.writeTrainingSlices(hours: 2)
        let environment = try demoEnvironment(emulator.info)
        var logs: [String] = []
        for _ in 0..<6 {
            let tick = try await refitOffPool("tick", "--schedules", folder.root.path, "--db", folder.database, "--log-format", "json",
                                              environment: environment)
            #expect(tick.exitCode == 0, "stderr: \(tick.stderr.suffix(800))")
            logs.append(tick.stderr)
            let history = try await refitOffPool("history", "--db", folder.database, "--format", "json")
            let rows = (try? JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))) ?? []
            let deployed = rows.filter { $0.activity == "UpdateScoringEndpoint" && ["Succeeded", "Skipped"].contains($0.status) }
            if Set(deployed.map(\.windowStart)).count == 2 { break }
        }
        return HistoryFixture(folder: folder, db: folder.database, tickLogs: logs)
    }

    /// The history rows (oldest first).
    func history() throws -> [HistoryRow] {
        try JSONDecoder().decode([HistoryRow].self, from: Data(try refit("history", "--db", db, "--format", "json").stdout.utf8))
    }

    /// A copy of the database in a fresh folder of its own, for tests that change or lock it down.
    func copy() throws -> ScratchSchedules {
        let scratch = try ScratchSchedules()
        try FileManager.default.copyItem(atPath: db, toPath: scratch.database)
        return scratch
    }
}

extension ScratchSchedules {
    /// An empty folder for the shared fixture of test process `pid`, after removing those of
    /// processes that are gone.
    init(fixtureFor pid: Int32) throws {
        let temporary = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        where name.hasPrefix(HistoryFixture.folderPrefix) {
            let owner = Int32(name.dropFirst(HistoryFixture.folderPrefix.count).prefix { $0 != "-" })
            if let owner, owner != pid, kill(owner, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
        root = temporary.appendingPathComponent("\(HistoryFixture.folderPrefix)\(pid)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }
}

/// Runs SQL on a database with Python's sqlite3 module (as an operator with shell access
/// would), outside Refit and its triggers' owner; `script` may hold several statements.
@discardableResult
func sqlite(_ db: String, _ script: String) throws -> ProcessResult {
    let program = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit(); c.close()"
    let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", program, db, script])
    #expect(result.exitCode == 0, "sqlite3 failed: \(result.stderr)")
    return result
}

/// Decodes a JSON array of objects from a command's stdout.
func jsonObjects(_ text: String) throws -> [[String: Any]] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "not a JSON array: \(text.prefix(300))")
}

/// Whether stderr is one sentence on one line (what every refused input must print).
func isOneSentence(_ text: String) -> Bool {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
    return lines.count == 1 && lines[0].hasSuffix(".")
}

/// `refit(...)` with the arguments as one array.
func refit(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    try runProcess(BuiltProducts.executable("refit"), arguments, environment: environment, currentDirectory: BuiltProducts.packageRoot)
}
