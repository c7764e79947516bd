import Foundation
import RefitPostgres
import RefitTestKit
import Testing

/// The PostgreSQL server restarts twice (`pg_ctl restart -m fast`: every session cut off, open
/// transactions rolled back), then goes away for longer than a reconnect's backoff, while two
/// `refit run` workers run windows against the emulator.
/// The workers reconnect with backoff and carry on: every window ends, every attempt is in
/// history once, no window runs in two workers at once, each window's model was submitted once
/// unless a retry is recorded, and deployments only move forward.
@Suite("PostgreSQL server restarts under refit run (emulator)", .timeLimit(.minutes(5)))
struct PostgresRestartTests {
    struct Failure: Error { var message: String }

    /// A server of this test's own (restarting the shared one would cut off other tests).
    final class OwnServer: @unchecked Sendable {
        let folder: URL
        let url: String

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("refit-pg-restart-\(UUID().uuidString)")
            let result = try Self.script("start", folder)
            guard result.exitCode == 0, let url = result.stdout.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres") else {
                throw Failure(message: "the test's own PostgreSQL server did not start: \(result.stderr)")
            }
            self.url = url
            // Named for its owner, so a later test process stops it if this one is killed first
            // (`PostgresTestServer` sweeps `refit-pg-*` folders whose owner is gone).
            try? String(getpid()).write(to: folder.appendingPathComponent("owner.pid"), atomically: true, encoding: .utf8)
        }

        /// Restarts it on the same port; returns when it accepts connections again.
        func restart() throws {
            let result = try Self.script("restart", folder)
            #expect(result.exitCode == 0, "restart: \(result.stderr)")
        }

        /// Stops it for `seconds` — longer than the store's own reconnect attempts last, so the
        /// workers' passes and finishes fail and must be tried again — then starts it on its port.
        func outage(seconds: Int) async throws {
            let stopped = try await offPool { try Self.script("stop", self.folder) }
            #expect(stopped.exitCode == 0, "stop: \(stopped.stderr)")
            try await Task.sleep(for: .seconds(seconds))
            let started = try await offPool { try Self.script("start", self.folder) }
            #expect(started.exitCode == 0 && started.stdout.contains(url), "start: \(started.stdout) \(started.stderr)")
        }

        func stop() {
            _ = try? Self.script("stop", folder)
            try? FileManager.default.removeItem(at: folder)
        }

        static func script(_ command: String, _ folder: URL) throws -> ProcessResult {
            try runProcess(URL(fileURLWithPath: "/bin/bash"),
                           [BuiltProducts.packageRoot.appendingPathComponent("scripts/pg-test-server.sh").path, command, folder.path],
                           deadline: .seconds(120))
        }
    }

    @Test("two refit run workers survive two server restarts mid-transaction and an outage: nothing lost, nothing run twice")
    func restartsMidRun() async throws {
        let server = try await offPool { try OwnServer() }
        // Stopped before the test returns, however it ends (a server left running outlives the process).
        let result: Result<Void, any Error>
        do { result = .success(try await restartsMidRun(server)) } catch { result = .failure(error) }
        _ = try? await offPool { server.stop() }
        try result.get()
    }

    private func restartsMidRun(_ server: OwnServer) async throws {
        let hours = 12
        let scenario = try await CrashScenario.start(hours: hours, retrainConcurrency: 2, jobDuration: 1, database: server.url)
        defer { scenario.cleanup() }
        // Leases outlast a restart, so neither worker may take the other's windows meanwhile.
        let workers = try (0..<2).map { _ in
            try scenario.startWorker(["--max-parallel", "2", "--lease-seconds", "20", "--heartbeat-seconds", "2"])
        }

        // First restart once both workers run attempts, the second once some windows are done
        // and others still run: transactions of claims, renewals and finishes are cut off. Then
        // an outage longer than a reconnect's backoff, while attempts run and end.
        var restarts = 0
        for threshold in [1, hours / 3, hours / 2] {
            let started = try await waitUntil(seconds: 90) {
                let logs = workers.map { $0.attempts() }
                let finished = logs.flatMap { $0 }.filter { $0.finished != nil }.count
                return logs.allSatisfy { !$0.isEmpty } && finished >= threshold - 1
                    && logs.flatMap { $0 }.contains { $0.finished == nil }
            }
            #expect(started, "no attempt was running to cut off; logs: \(workers.map { $0.logTail() })")
            if restarts < 2 {
                try await offPool { try server.restart() }
            } else {
                try await server.outage(seconds: 8)
            }
            restarts += 1
        }
        #expect(restarts == 3)
        #expect(workers.allSatisfy { $0.isRunning }, "a worker exited after a restart: \(workers.map { $0.logTail() })")

        let history = try await scenario.converge(keepRunning: workers)
        try await scenario.checkInvariants(history: history)
        try await scenario.checkExclusive(history: history)
        // Every window's training ended Succeeded.
        let retrained = Set(history.filter { $0.activity == "Retrain" && $0.status == "Succeeded" }.map(\.windowStart))
        #expect(retrained.count == hours)

        // One submit per window unless a retry is recorded: every job the emulator accepted is
        // named by a run, and no window has more jobs than attempts.
        let c = try PostgresConnection(url: server.url)
        let runs = try c.query("""
            SELECT w.window_start, r.attempt, r.external_job_id FROM runs r JOIN windows w ON w.id = r.window_id
            WHERE w.activity = 'Retrain'
            """)
        let jobsByWindow = Dictionary(grouping: runs, by: { $0.string("window_start") ?? "" })
            .mapValues { rows in (attempts: rows.count, jobs: Set(rows.compactMap { $0.string("external_job_id") })) }
        let submits = try await scenario.emulator.operations("submit").filter { ($0.status.map { (200..<300).contains($0) }) == true }
        let recordedJobs = Set(jobsByWindow.values.flatMap(\.jobs))
        #expect(Set(submits.compactMap(\.jobId)).isSubset(of: recordedJobs),
                "a submitted job no run names: \(Set(submits.compactMap(\.jobId)).subtracting(recordedJobs))")
        for (window, entry) in jobsByWindow {
            #expect(entry.jobs.count <= entry.attempts, "\(window): \(entry.jobs.count) jobs for \(entry.attempts) attempts")
        }
        let retries = jobsByWindow.values.map { $0.attempts - 1 }.reduce(0, +)
        #expect(submits.count <= hours + retries, "\(submits.count) submits for \(hours) windows and \(retries) retries")
        // The workers logged only their own JSON lines (libpq's notices of the shutdowns did not
        // leak onto stderr), and said they retried.
        let lines = workers.flatMap { ((try? String(contentsOf: $0.logFile, encoding: .utf8)) ?? "").split(separator: "\n") }
        let foreign = lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) == nil }
        #expect(foreign.isEmpty, "non-JSON lines in the workers' logs: \(foreign.prefix(5))")
        // The server did restart under them (its start time is after the workers').
        let startedAt = try #require(try c.query("SELECT pg_postmaster_start_time() AS t").first?.instant("t"))
        let firstClaim = try #require(try c.query("SELECT min(started_at) AS t FROM runs").first?.instant("t"))
        #expect(startedAt > firstClaim)
    }

    /// Polls `condition` every 20 ms until it holds or `seconds` pass (a hang guard).
    private func waitUntil(seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
