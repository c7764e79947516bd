import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import RefitHTTP
import RefitStorage
import RefitTestKit

/// "Bad input and faults" end to end: `refit tick` (the real binary) against the real emulator
/// while storage is unreachable or refuses the key, slice data disappears after its probe, the
/// ML service fails or is slow, the database is locked or the disk is full. Each fault must be
/// a clear recorded error, retried per the definitions' policy, lose nothing and never crash
/// (`tick` exits 0 for failed windows, 3 for an unusable database).
@Suite("faults end to end (refit tick, emulator)", .timeLimit(.minutes(5)))
struct FaultEndToEndTests {
    // MARK: Storage unreachable / permission denied

    @Test("a FileShare host folder that does not exist: the slice waits with a clear message, is re-checked per retryInterval, and runs once the data lands")
    func missingFileShareFolder() async throws {
        let scenario = try await FaultScenario()
        defer { scenario.remove() }
        try scenario.shortenExternalRetry()

        let first = try await scenario.tick()
        #expect(first.exitCode == 0, "stderr: \(first.stderr)")
        var slice = try #require(try await scenario.externalSlices().first)
        #expect(slice.status == "Waiting" && slice.substatus == "ValidationRetry")
        #expect(slice.message?.contains("does not exist") == true, "message: \(slice.message ?? "nil")")
        #expect(slice.attempts == 1)
        #expect(try await scenario.history().isEmpty)

        try await scenario.waitPastRetryInterval()
        #expect(try await scenario.tick().exitCode == 0)
        slice = try #require(try await scenario.externalSlices().first)
        #expect(slice.status == "Waiting" && slice.attempts == 2, "re-checked after retryInterval: \(slice)")

        try scenario.folder.writeTrainingSlices(hours: 1)
        try await scenario.waitPastRetryInterval()
        let rows = try await scenario.tickUntilDeployed()
        #expect(try await scenario.externalSlices().first?.status == "Ready")
        #expect(rows.filter { $0.activity == "Retrain" }.map(\.status) == ["Succeeded"])
    }

    enum BlobFault: String, CaseIterable, Sendable { case unreachable, wrongKey }

    @Test("an AzureBlob input whose storage is unreachable or refuses the key: a clear message, re-checked per retryInterval, no secret printed, recovery once fixed",
          arguments: BlobFault.allCases)
    func blobStorageFault(_ fault: BlobFault) async throws {
        let scenario = try await FaultScenario()
        defer { scenario.remove() }
        try scenario.useBlobTrainingData()
        try scenario.shortenExternalRetry()
        let storage = scenario.emulator.info.storage
        let wrongKey = Data("not-the-key-\(UUID().uuidString)".utf8).base64EncodedString()
        var reserved: Int32 = -1
        defer { if reserved >= 0 { close(reserved) } }
        switch fault {
        case .unreachable:
            let (port, socket) = try closedLoopbackPort()
            reserved = socket
            let endpoint = try #require(URLComponents(string: storage.blobEndpoint))
            var moved = endpoint
            moved.port = port
            scenario.environment["REFIT_TEST_INPUT_CONNECTION_STRING"] = storage.connectionString
                .replacingOccurrences(of: storage.blobEndpoint, with: try #require(moved.string))
        case .wrongKey:
            scenario.environment["REFIT_TEST_INPUT_CONNECTION_STRING"] = storage.connectionString
                .replacingOccurrences(of: storage.accountKey, with: wrongKey)
        }
        let first = try await scenario.tick()
        #expect(first.exitCode == 0, "stderr: \(first.stderr)")
        let slice = try #require(try await scenario.externalSlices().first)
        #expect(slice.status == "Waiting" && slice.substatus == "ValidationRetry", "slice: \(slice)")
        let message = slice.message ?? ""
        switch fault {
        case .unreachable: #expect(message.contains("connection refused"), "message: \(message)")
        case .wrongKey: #expect(message.contains("access denied") && message.contains("403"), "message: \(message)")
        }
        #expect(!message.contains(wrongKey) && !message.contains(storage.accountKey))
        #expect(!first.stderr.contains(wrongKey) && !first.stderr.contains(storage.accountKey))
        #expect(try await scenario.history().isEmpty)

        // The operator fixes the connection string and the data is there: the next check finds it.
        scenario.environment["REFIT_TEST_INPUT_CONNECTION_STRING"] = storage.connectionString
        try await scenario.uploadTrainingBlob(hour: 0)
        try await scenario.waitPastRetryInterval()
        let rows = try await scenario.tickUntilDeployed()
        let ready = try #require(try await scenario.externalSlices().first)
        #expect(ready.status == "Ready" && ready.attempts == 2, "slice: \(ready)")
        #expect(rows.filter { $0.activity == "Retrain" }.map(\.status) == ["Succeeded"])
    }

    // MARK: Slice data removed between probe and run

    @Test("slice data removed after its probe: the attempt fails naming the file, is retried, and succeeds once the file is back")
    func sliceDataRemovedBetweenProbeAndRun() async throws {
        let scenario = try await FaultScenario()
        defer { scenario.remove() }
        try scenario.folder.writeTrainingSlices(hours: 1)
        let file = scenario.folder.root.appendingPathComponent("data/training/2026/01/01/00.csv")
        let contents = try Data(contentsOf: file)

        // Attempt 1 probes the slice Ready, stages it and then its job fails: the window retries.
        try await scenario.emulator.setFaults(#"{"plans":[],"failJobs":1}"#)
        #expect(try await scenario.tick().exitCode == 0)
        #expect(try await scenario.externalSlices().first?.status == "Ready")
        try FileManager.default.removeItem(at: file)

        // Attempt 2 finds the Ready slice's file gone while staging it.
        let second = try await scenario.tick()
        #expect(second.exitCode == 0, "stderr: \(second.stderr)")
        var retrains = try await scenario.history().filter { $0.activity == "Retrain" }
        #expect(retrains.map(\.status) == ["Failed", "Failed"], "history: \(retrains)")
        let missing = try #require(retrains.last?.error)
        #expect(missing.contains(file.lastPathComponent) && missing.contains("does not exist"), "error: \(missing)")
        #expect(try await scenario.emulator.operations("submit").count == 1, "no job is submitted without its input")
        let window = try #require(try await scenario.windows().first { $0.activity == "Retrain" })
        #expect(window.status == "Waiting" && window.substatus == "Retry", "window: \(window)")

        // The file is back: attempt 3 (retry 2 → three attempts) succeeds.
        try contents.write(to: file)
        let rows = try await scenario.tickUntilDeployed()
        retrains = rows.filter { $0.activity == "Retrain" }
        #expect(retrains.map(\.status) == ["Failed", "Failed", "Succeeded"], "history: \(retrains)")
    }

    @Test("slice data removed for good: every attempt the policy allows fails with the same clear error, then the window is Failed")
    func sliceDataRemovedFailsOutPerPolicy() async throws {
        let scenario = try await FaultScenario()
        defer { scenario.remove() }
        try scenario.folder.writeTrainingSlices(hours: 1)
        try await scenario.emulator.setFaults(#"{"plans":[],"failJobs":1}"#)
        #expect(try await scenario.tick().exitCode == 0)
        try FileManager.default.removeItem(at: scenario.folder.root.appendingPathComponent("data/training/2026/01/01/00.csv"))
        for _ in 0..<4 { #expect(try await scenario.tick().exitCode == 0) }
        let retrains = try await scenario.history().filter { $0.activity == "Retrain" }
        #expect(retrains.count == 3 && retrains.allSatisfy { $0.status == "Failed" }, "retry 2 → three attempts: \(retrains)")
        #expect(retrains.dropFirst().allSatisfy { $0.error?.contains("00.csv") == true })
        let window = try #require(try await scenario.windows().first { $0.activity == "Retrain" })
        #expect(window.status == "Failed" && window.attempts == 3, "window: \(window)")
    }

    // MARK: ML service failing or slow

    @Test("a BES job that ends Failed: the attempt records the job's error, the retry submits a new job and succeeds")
    func jobFailsThenRetrySucceeds() async throws {
        let scenario = try await FaultScenario(emulatorArguments: ["--fault", "jobs:fail=1:details=Error 0003: column y has missing values"])
        defer { scenario.remove() }
        try scenario.folder.writeTrainingSlices(hours: 1)
        let first = try await scenario.tick()
        #expect(first.exitCode == 0, "stderr: \(first.stderr)")
        let failed = try #require(try await scenario.history().first { $0.activity == "Retrain" })
        #expect(failed.status == "Failed")
        #expect(failed.error?.contains("Error 0003: column y has missing values") == true, "error: \(failed.error ?? "nil")")
        let failedJob = try #require(try await scenario.emulator.operations("submit").first?.jobId)
        #expect(failed.error?.contains(failedJob) == true, "the error names the failed job")
        #expect(failed.externalJobId == failedJob, "history names the failed attempt's job")

        let rows = try await scenario.tickUntilDeployed()
        let retrains = rows.filter { $0.activity == "Retrain" }
        #expect(retrains.map(\.status) == ["Failed", "Succeeded"], "history: \(retrains)")
        let submits = try await scenario.emulator.operations("submit")
        #expect(submits.count == 2, "the retry submits a new job instead of resuming the failed one")
        #expect(retrains.last?.externalJobId == submits.last?.jobId && submits.last?.jobId != failedJob)
    }

    @Test("submit answering HTTP 500 more often than the retry policy allows: every attempt is recorded, the window fails out, nothing crashes")
    func submitErrorsExhaustRetries() async throws {
        let scenario = try await FaultScenario(emulatorArguments: ["--fault", "submit:500:count=3"])
        defer { scenario.remove() }
        try scenario.folder.writeTrainingSlices(hours: 1)
        for _ in 0..<4 {
            let tick = try await scenario.tick()
            #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        }
        let retrains = try await scenario.history().filter { $0.activity == "Retrain" }
        #expect(retrains.count == 3 && retrains.allSatisfy { $0.status == "Failed" && $0.error?.contains("HTTP 500") == true },
                "retry 2 → three attempts: \(retrains)")
        let window = try #require(try await scenario.windows().first { $0.activity == "Retrain" })
        #expect(window.status == "Failed", "window: \(window)")
        #expect(try await scenario.emulator.operations("submit").count == 3)
    }

    @Test("submit answering HTTP 500 once: attempt 1 Failed with the status, attempt 2 succeeds")
    func submitErrorThenRecovery() async throws {
        let scenario = try await FaultScenario(emulatorArguments: ["--fault", "submit:500:count=1"])
        defer { scenario.remove() }
        try scenario.folder.writeTrainingSlices(hours: 1)
        let rows = try await scenario.tickUntilDeployed()
        let retrains = rows.filter { $0.activity == "Retrain" }
        #expect(retrains.map(\.status) == ["Failed", "Succeeded"], "history: \(retrains)")
        #expect(retrains.first?.error?.contains("HTTP 500") == true, "error: \(retrains.first?.error ?? "nil")")
    }

    @Test("the scoring endpoint answering the PATCH with HTTP 503: the update attempt fails retryable, the retry deploys once")
    func patchUnavailableThenDeployed() async throws {
        let scenario = try await FaultScenario(emulatorArguments: ["--fault", "patch:503:count=1:retry-after=1"])
        defer { scenario.remove() }
        try scenario.folder.writeTrainingSlices(hours: 1)
        let rows = try await scenario.tickUntilDeployed()
        let updates = rows.filter { $0.activity == "UpdateScoringEndpoint" }
        #expect(updates.map(\.status) == ["Failed", "Succeeded"], "history: \(updates)")
        #expect(updates.first?.error?.contains("503") == true, "error: \(updates.first?.error ?? "nil")")
        let patches = try await scenario.emulator.operations("patch")
        #expect(patches.map(\.status) == [503, 200], "patches: \(patches)")
    }

    @Test("a status call slower than the activity's timeout: the attempt is TimedOut, its job DELETEd, and the retry succeeds")
    func slowServiceTimesOut() async throws {
        // The status call takes 20 s, the timeout is 6 s: the first attempt times out, and the
        // retry (faults cleared) has room to finish on a loaded machine.
        let scenario = try await FaultScenario(emulatorArguments: ["--fault", "status:latency=20000"])
        defer { scenario.remove() }
        try scenario.folder.writeTrainingSlices(hours: 1)
        try scenario.setRetrainTimeout("00:00:06")
        let first = try await scenario.tick()
        #expect(first.exitCode == 0, "stderr: \(first.stderr)")
        let timedOut = try #require(try await scenario.history().first { $0.activity == "Retrain" })
        #expect(timedOut.status == "TimedOut", "attempt: \(timedOut)")
        #expect(timedOut.error?.contains("timeout") == true, "error: \(timedOut.error ?? "nil")")
        let jobID = try #require(try await scenario.emulator.operations("submit").first?.jobId)
        #expect(try await scenario.emulator.operations("delete").contains { $0.jobId == jobID }, "the timed-out job is deleted")
        let window = try #require(try await scenario.windows().first { $0.activity == "Retrain" })
        #expect(window.status == "Waiting" && window.substatus == "Retry", "window: \(window)")

        try await scenario.emulator.clearFaults()
        let rows = try await scenario.tickUntilDeployed()
        #expect(rows.filter { $0.activity == "Retrain" }.map(\.status) == ["TimedOut", "Succeeded"])
        #expect(try await scenario.emulator.operations("submit").count == 2)
    }

    // MARK: SQLite busy, disk full

    @Test("another process holds the database's write lock: tick exits 3 with one sentence; after release the next tick proceeds and history is intact")
    func databaseLocked() async throws {
        let scenario = try await FaultScenario()
        defer { scenario.remove() }
        try scenario.folder.writeTrainingSlices(hours: 1)
        #expect(try await scenario.tick().exitCode == 0)
        let before = try await scenario.history()
        #expect(before.map(\.status) == ["Succeeded"], "history: \(before)")

        let lock = try await offPool { try DatabaseLock(path: scenario.db) }
        let blocked = try await scenario.tick()
        try await offPool { lock.release() }
        #expect(blocked.exitCode == 3, "stderr: \(blocked.stderr)")
        let line = blocked.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.contains("database is busy"), "stderr: \(blocked.stderr)")
        #expect(!blocked.stderr.contains("Fatal error"))

        let rows = try await scenario.tickUntilDeployed()
        #expect(Array(rows.prefix(before.count)).map(\.runId) == before.map(\.runId), "nothing lost: \(rows)")
        #expect(rows.contains { $0.activity == "UpdateScoringEndpoint" && $0.status == "Succeeded" })
    }

    @Test("the disk fills up (a file size limit): tick exits 3 with one sentence naming the full disk, and the database still opens with its data")
    func diskFull() async throws {
        let scenario = try await FaultScenario()
        defer { scenario.remove() }
        #expect(try await scenario.tick().exitCode == 0)
        let before = try await scenario.windows()
        #expect(before.count == 2, "windows: \(before)")

        // A month of hourly windows to create cannot fit under a file size limit.
        try scenario.setPipelineEnd("2026-02-01T00:00:00Z")
        // 40 kB: room for SQLite's 32 kB shared-memory file and a few WAL frames, not for a month.
        let full = try await offPool { try runProcess(URL(fileURLWithPath: "/usr/bin/prlimit"),
                                  ["--fsize=40000", "--", BuiltProducts.executable("refit").path,
                                   "tick", "--schedules", scenario.folder.root.path, "--db", scenario.db],
                                  environment: scenario.environment) }
        #expect(full.exitCode == 3, "stderr: \(full.stderr)")
        let lines = full.stderr.split(separator: "\n").filter { !$0.contains("[refit.") && !$0.contains(" info ") }
        #expect(lines.last?.contains("disk is full") == true && lines.last?.contains("not written") == true,
                "stderr: \(full.stderr)")
        #expect(!full.stderr.contains("Fatal error"))

        // Nothing was half-written: the database opens, has what it had, and grows once there is room.
        let after = try await scenario.windows()
        let key = { (row: SliceRow) in "\(row.activity ?? "-")@\(row.sliceStart)/\(row.status)" }
        #expect(Set(before.map(key)).isSubset(of: Set(after.map(key))), "before: \(before), after: \(after.prefix(4))")
        #expect(try await scenario.tick().exitCode == 0)
        #expect(try await scenario.windows().count > after.count)
    }
}

// MARK: - Support

/// One test's world: the example schedules in a scratch folder (local data host, one hourly
/// window), a running emulator, the environment pointing at it, and a database.
final class FaultScenario: @unchecked Sendable {
    let emulator: EmulatorProcess
    let folder: ScratchSchedules
    let db: String
    var environment: [String: String]

    init(emulatorArguments: [String] = []) async throws {
        emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"] + emulatorArguments)
        folder = try ScratchSchedules.example()
        db = folder.database
        environment = try demoEnvironment(emulator.info)
        try setPipelineEnd("2026-01-01T01:00:00Z")
    }

    /// Stops the emulator on a thread of its own (the wait must not hold a cooperative thread).
    func remove() {
        let emulator = self.emulator
        Thread { emulator.stop() }.start()
        folder.remove()
    }

    func tick() async throws -> ProcessResult {
        // One pass per call: these scenarios change the world between attempts.
        try await refitOffPool("tick", "--once", "--schedules", folder.root.path, "--db", db, environment: environment)
    }

    func history() async throws -> [HistoryRow] {
        let result = try await refitOffPool("history", "--db", db, "--format", "json", environment: environment)
        guard result.exitCode == 0 else { throw ScenarioError("refit history failed: \(result.stderr)") }
        return try JSONDecoder().decode([HistoryRow].self, from: Data(result.stdout.utf8))
    }

    func slices() async throws -> [SliceRow] {
        let result = try await refitOffPool("slices", "--schedules", folder.root.path, "--db", db, "--pipeline", "RetrainPipeline",
                               "--format", "json", environment: environment)
        guard result.exitCode == 0 else { throw ScenarioError("refit slices failed: \(result.stderr)") }
        return try JSONDecoder().decode([SliceRow].self, from: Data(result.stdout.utf8))
    }

    func externalSlices() async throws -> [SliceRow] { try await slices().filter { $0.kind == "external" } }
    func windows() async throws -> [SliceRow] { try await slices().filter { $0.kind == "window" } }

    /// Ticks until the window's model serves (at most eight passes); returns the history.
    func tickUntilDeployed() async throws -> [HistoryRow] {
        var rows: [HistoryRow] = []
        for _ in 0..<8 {
            let tick = try await tick()
            guard tick.exitCode == 0 else { throw ScenarioError("refit tick exited \(tick.exitCode): \(tick.stderr)") }
            rows = try await history()
            if rows.contains(where: { $0.activity == "UpdateScoringEndpoint" && $0.status == "Succeeded" }) { return rows }
        }
        throw ScenarioError("the window never deployed; history: \(rows)")
    }

    // MARK: Definition edits

    func edit(_ path: String, _ change: (String) -> String) throws {
        let url = folder.root.appendingPathComponent(path)
        let before = try String(contentsOf: url, encoding: .utf8)
        let after = change(before)
        guard after != before else { throw ScenarioError("the edit of \(path) changed nothing") }
        try folder.write(path, after)
    }

    func setPipelineEnd(_ end: String) throws {
        try edit("pipelines/retrain-pipeline.json") {
            $0.replacingOccurrences(of: #""end": "[^"]*""#, with: "\"end\": \"\(end)\"", options: .regularExpression)
        }
    }

    func setRetrainTimeout(_ timeout: String) throws {
        try edit("pipelines/retrain-pipeline.json") {
            $0.replacingOccurrences(of: #""timeout": "00:10:00""#, with: "\"timeout\": \"\(timeout)\"")
        }
    }

    /// External data checks one second apart, up to ten of them.
    func shortenExternalRetry() throws {
        try edit("datasets/training-data.json") {
            $0.replacingOccurrences(of: #""retryInterval": "00:01:00""#, with: #""retryInterval": "00:00:01""#)
                .replacingOccurrences(of: #""maximumRetry": 3"#, with: #""maximumRetry": 10"#)
        }
    }

    /// Lets the one-second retryInterval pass, so the next tick's check is due.
    func waitPastRetryInterval() async throws { try await Task.sleep(for: .milliseconds(1_100)) }

    /// TrainingData becomes an AzureBlob dataset (container `training`) whose storage account
    /// comes from `$REFIT_TEST_INPUT_CONNECTION_STRING`.
    func useBlobTrainingData() throws {
        try folder.write("linked-services/input-storage.json", """
            {"name": "InputStorage", "properties": {"type": "AzureStorage",
             "typeProperties": {"connectionString": {"env": "REFIT_TEST_INPUT_CONNECTION_STRING"}}}}
            """)
        try edit("datasets/training-data.json") {
            $0.replacingOccurrences(of: #""type": "FileShare""#, with: #""type": "AzureBlob""#)
                .replacingOccurrences(of: #""linkedServiceName": "DemoFiles""#, with: #""linkedServiceName": "InputStorage""#)
        }
    }

    /// Uploads the hour's training CSV (as `writeTrainingSlices` writes it) to the emulator's blob store.
    func uploadTrainingBlob(hour: Int) async throws {
        try folder.writeTrainingSlices(hours: hour + 1)
        let name = "2026/01/01/\(hour < 10 ? "0" : "")\(hour).csv"
        let data = try Data(contentsOf: folder.root.appendingPathComponent("data/training/" + name))
        let account = try AzureStorageAccount(connectionString: emulator.info.storage.connectionString)
        let client = AzureBlobClient(account: account, http: HTTPClient())
        try await client.createContainer("training")
        try await client.putBlob(container: "training", blob: name, data: data, contentType: "text/csv")
    }
}

struct ScenarioError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A loopback TCP port nothing listens on, for "storage unreachable": bound but never listening,
/// so connections are refused and no other test server can take the port while the caller
/// keeps the socket open (close it at the end).
func closedLoopbackPort() throws -> (port: Int, socket: Int32) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ScenarioError("socket() failed") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { close(fd); throw ScenarioError("bind() failed") }
    return (Int(UInt16(bigEndian: address.sin_port)), fd)
}

/// Another process (Python's sqlite3) holding `BEGIN EXCLUSIVE` on the database until released.
final class DatabaseLock: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()

    init(path: String) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute('BEGIN EXCLUSIVE')
            print('locked', flush=True)
            sys.stdin.readline()
            c.execute('ROLLBACK')
            """, path]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try launchProcess(process)
        let line = readChunk(output.fileHandleForReading)
        guard String(decoding: line, as: UTF8.self).hasPrefix("locked") else {
            process.terminate()
            throw ScenarioError("python3 could not lock the database")
        }
    }

    func release() {
        try? input.fileHandleForWriting.close()
        ChildExit.wait(for: process, timeout: .seconds(30))
    }
}
