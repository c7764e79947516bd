import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import RefitTestKit

/// `refit rollback` puts back the model an earlier window trained, audited as a forced
/// deployment of kind `rollback`; afterwards a newer window deploys normally.
@Suite("refit rollback (emulator)", .timeLimit(.minutes(3)))
struct RollbackCommandTests {
    func servingModel(_ emulator: EmulatorProcess) async throws -> String? {
        let retrain = try #require(emulator.info.endpoint("retrain"))
        var request = URLRequest(url: try #require(URL(string: retrain.managementURL)))
        request.setValue("Bearer \(retrain.apiKey)", forHTTPHeaderField: "Authorization")
        let (body, _) = try await URLSession.shared.data(for: request)
        let endpoint = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let location = ((endpoint?["Resources"] as? [[String: Any]])?.first?["Location"]) as? [String: Any]
        return location?["RelativeLocation"] as? String
    }

    @Test("rollback to an earlier window: its model serves, audited; a newer window then deploys normally; bad input changes nothing")
    func rollback() async throws {
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        // Three hourly windows for now; the pipeline is extended by an hour later.
        let pipelinePath = "pipelines/retrain-pipeline.json"
        let pipeline = try String(contentsOf: folder.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T03:00:00Z""#))
        try folder.writeTrainingSlices(hours: 3)
        let environment = try demoEnvironment(emulator.info)
        let db = folder.database
        let schedules = folder.root.path
        let tick = try await refitOffPool("tick", "--schedules", schedules, "--db", db, environment: environment)
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        #expect(try await servingModel(emulator)?.contains("2026010102") == true)
        let patchesBefore = try await emulator.operations("patch").count

        let rollback = try await refitOffPool("rollback", "--schedules", schedules, "--db", db, "--pipeline", "RetrainPipeline",
                                              "--activity", "UpdateScoringEndpoint", "--to", "2026-01-01T00:00:00Z",
                                              "--reason", "the 02:00 model drifts", "--actor", "bob", environment: environment)
        #expect(rollback.exitCode == 0, "stderr: \(rollback.stderr)")
        #expect(try await servingModel(emulator)?.contains("2026010100") == true, "the 00:00 model serves again")
        #expect(try await emulator.operations("patch").count == patchesBefore + 1)
        let audit = try await refitOffPool("audit", "--db", db, "--format", "json", environment: environment)
        #expect(audit.stdout.contains("rolledBack") && audit.stdout.contains("bob"), "audit: \(audit.stdout.suffix(600))")

        // Bad input: a window that never ran, an activity that is not an update, a time without zone.
        let untrained = try await refitOffPool("rollback", "--schedules", schedules, "--db", db, "--pipeline", "RetrainPipeline",
                                               "--activity", "UpdateScoringEndpoint", "--to", "2026-01-01T05:00:00Z", "--reason", "x",
                                               environment: environment)
        #expect(untrained.exitCode == 1 && untrained.stderr.contains("2026-01-01T05:00:00Z"), "stderr: \(untrained.stderr)")
        let notUpdate = try await refitOffPool("rollback", "--schedules", schedules, "--db", db, "--pipeline", "RetrainPipeline",
                                               "--activity", "Retrain", "--to", "2026-01-01T00:00:00Z", "--reason", "x",
                                               environment: environment)
        #expect(notUpdate.exitCode == 1 && notUpdate.stderr.contains("not an AzureMLUpdateResource"), "stderr: \(notUpdate.stderr)")
        let zoneless = try await refitOffPool("rollback", "--schedules", schedules, "--db", db, "--pipeline", "RetrainPipeline",
                                              "--activity", "UpdateScoringEndpoint", "--to", "2026-01-01T00:00:00", "--reason", "x",
                                              environment: environment)
        #expect(zoneless.exitCode == 2, "stderr: \(zoneless.stderr)")
        #expect(try await emulator.operations("patch").count == patchesBefore + 1, "bad input deployed nothing")

        // A newer window than the rolled-back one deploys normally.
        try folder.write(pipelinePath, pipeline.replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#,
                                                                     with: #""end": "2026-01-01T04:00:00Z""#))
        try folder.writeTrainingSlices(hours: 4)
        let next = try await refitOffPool("tick", "--schedules", schedules, "--db", db, environment: environment)
        #expect(next.exitCode == 0, "stderr: \(next.stderr)")
        #expect(try await servingModel(emulator)?.contains("2026010103") == true)
    }
}
