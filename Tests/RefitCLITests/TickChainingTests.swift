import Foundation
import Testing
import RefitTestKit

/// `refit tick` finishes the chain: work made runnable by work it finished starts in the same
/// invocation, so an hourly cron tick retrains and deploys its hour, and a day of backlog
/// needs one tick, not one per deployment.
@Suite("refit tick chaining (emulator)", .timeLimit(.minutes(5)))
struct TickChainingTests {
    @Test("24 hourly windows of retrain → update finish in one refit tick; the newest model serves")
    func dayInOneTick() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        try folder.writeTrainingSlices(hours: 24)
        let environment = try demoEnvironment(emulator.info)

        let tick = try await refitOffPool("tick", "--schedules", folder.root.path, "--db", folder.database, environment: environment)
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        let history = try await refitOffPool("history", "--db", folder.database, "--format", "json", environment: environment)
        let rows = try JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))
        let retrains = rows.filter { $0.activity == "Retrain" }
        let updates = rows.filter { $0.activity == "UpdateScoringEndpoint" }
        #expect(retrains.count == 24 && retrains.allSatisfy { $0.status == "Succeeded" }, "history: \(rows)")
        #expect(Set(updates.map(\.windowStart)).count == 24, "every update window ran: \(updates)")
        #expect(updates.allSatisfy { ["Succeeded", "Skipped"].contains($0.status) }, "updates: \(updates)")
        // The newest window deployed; no older one went out after it.
        let deployed = updates.filter { $0.status == "Succeeded" }.map(\.windowStart)
        #expect(deployed.last == "2026-01-01T23:00:00Z", "deployed: \(deployed)")
        #expect(deployed == deployed.sorted(), "deployments only move forward: \(deployed)")
        #expect(try await emulator.operations("submit").count == 24)

        // A second tick over the finished day starts nothing.
        let again = try await refitOffPool("tick", "--schedules", folder.root.path, "--db", folder.database, environment: environment)
        #expect(again.exitCode == 0 && again.stderr.contains("0 attempts started"), "stderr: \(again.stderr)")
    }
}
