import Foundation
import RefitTestKit
import Testing

/// `refit status` lists the worker processes of every host with their last heartbeat: `refit
/// run` registers, heartbeats every `--heartbeat-seconds` and says when it stopped; `refit tick`
/// registers and is marked stopped at its end.
@Suite("refit status: the workers of every host", .timeLimit(.minutes(5)))
struct WorkerStatusTests {
    struct Worker: Decodable {
        struct Process: Decodable { var id: Int? }
        struct Heartbeat: Decodable { var at: String; var intervalSeconds: Int }
        struct Stopped: Decodable { var at: String }
        var workerId: String
        var host: String?
        var process: Process
        var command: String?
        var state: String
        var holdsLease: Bool
        var startedAt: String?
        var heartbeat: Heartbeat?
        var stopped: Stopped?
    }

    struct Document: Decodable {
        var workers: [String]
        var workerDetails: [Worker]
    }

    static func status(_ scenario: CrashScenario) async throws -> Document {
        let result = try await refitOffPool("status", "--schedules", scenario.folder.root.path, "--db", scenario.db, "--format", "json",
                                            environment: scenario.environment)
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        return try JSONDecoder().decode(Document.self, from: Data(result.stdout.utf8))
    }

    /// Polls status until `condition` holds (a hang guard of `seconds`, not a timing assertion).
    /// Until the first worker has migrated the database, status refuses it (exit 3): polled too.
    static func waitForStatus(_ scenario: CrashScenario, seconds: Double = 60,
                              _ condition: (Document) -> Bool) async throws -> Document {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let result = try await refitOffPool("status", "--schedules", scenario.folder.root.path, "--db", scenario.db, "--format", "json",
                                                environment: scenario.environment)
            if result.exitCode == 0, let document = try? JSONDecoder().decode(Document.self, from: Data(result.stdout.utf8)),
               condition(document) {
                return document
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try await status(scenario)
    }

    @Test("two refit run workers on one PostgreSQL database both appear with heartbeats; one stopped shows stopped")
    func twoRunWorkersOnPostgres() async throws {
        let database = try ScratchPostgresDatabase(prefix: "refit_workers")
        let scenario = try await CrashScenario.start(hours: 2, retrainConcurrency: 2, jobDuration: 0.3, database: database.url)
        defer { scenario.cleanup() }
        let workers = try (0..<2).map { _ in try scenario.startWorker(["--heartbeat-seconds", "1"]) }
        let pids = workers.map { Int($0.process.processIdentifier) }
        func entry(_ document: Document, pid: Int) -> Worker? { document.workerDetails.first { $0.process.id == pid } }

        // Both registered, running, and each has heartbeaten since it started.
        let both = try await Self.waitForStatus(scenario) { document in
            pids.allSatisfy { pid in
                guard let worker = entry(document, pid: pid), let beat = worker.heartbeat, let started = worker.startedAt else { return false }
                return worker.state == "running" && beat.at > started
            }
        }
        for pid in pids {
            let worker = try #require(entry(both, pid: pid), "pid \(pid) not listed: \(both.workerDetails)")
            #expect(worker.state == "running" && worker.command == "run" && worker.stopped == nil)
            #expect(worker.host == ProcessInfo.processInfo.hostName)
            #expect(worker.workerId.hasPrefix("\(ProcessInfo.processInfo.hostName):\(pid):"))
            #expect(worker.heartbeat?.intervalSeconds == 1)
            #expect(try #require(worker.heartbeat?.at) > (worker.startedAt ?? ""))
        }
        // Lease holders are a subset of the listed workers, flagged as such.
        #expect(Set(both.workers).isSubset(of: Set(both.workerDetails.map(\.workerId))))
        #expect(both.workerDetails.filter(\.holdsLease).map(\.workerId).sorted() == both.workers.sorted())

        // The first stops gracefully: listed as stopped, the other still running.
        #expect(try await offPool { workers[0].stop() } == 0)
        let after = try await Self.status(scenario)
        let stopped = try #require(entry(after, pid: pids[0]))
        #expect(stopped.state == "stopped" && stopped.stopped != nil && !stopped.holdsLease, "\(stopped)")
        #expect(entry(after, pid: pids[1])?.state == "running")

        // The table names both, one line each.
        let table = try await refitOffPool("status", "--schedules", scenario.folder.root.path, "--db", scenario.db,
                                           environment: scenario.environment)
        #expect(table.exitCode == 0, "stderr: \(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("(pid \(pids[0]), run): stopped, last heartbeat ") }, "\(table.stdout)")
        #expect(lines.contains { $0.contains("(pid \(pids[1]), run): running, last heartbeat ") }, "\(table.stdout)")
        #expect(try await offPool { workers[1].stop() } == 0)
        #expect(try await Self.status(scenario).workerDetails.allSatisfy { $0.state == "stopped" })
    }

    @Test("refit tick on SQLite registers and is marked stopped at its end")
    func tickOnSQLite() async throws {
        let scenario = try await CrashScenario.start(hours: 1, retrainConcurrency: 1, jobDuration: 0)
        defer { scenario.cleanup() }
        let tick = try await refitOffPool("tick", "--schedules", scenario.folder.root.path, "--db", scenario.db,
                                          environment: scenario.environment)
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        let document = try await Self.status(scenario)
        #expect(document.workers.isEmpty)
        let worker = try #require(document.workerDetails.first)
        #expect(document.workerDetails.count == 1)
        #expect(worker.command == "tick" && worker.state == "stopped" && worker.stopped != nil && worker.host == ProcessInfo.processInfo.hostName)
        #expect(worker.process.id != nil && worker.process.id != Int(getpid()))
    }
}
