import Foundation
import Testing
import RefitTestKit

/// `refit status` and `refit lineage` against the real `refit` and `refit-mlsim`.
@Suite("refit status and lineage (emulator)", .timeLimit(.minutes(5)))
struct StatusLineageTests {
    struct StatusDocument: Decodable {
        struct Pipeline: Decodable {
            struct NextDue: Decodable { var activity: String; var windowStart: String; var dueAt: String }
            struct Serving: Decodable { var activity: String; var windowStart: String?; var model: String?; var runId: String?; var since: String? }
            var pipeline: String
            var paused: Bool
            var windows: [String: Int]
            struct Running: Decodable { var runId: String; var ageSeconds: Int; var leaseOwner: String? }
            var running: [Running]
            var nextDue: NextDue?
            var workers: [String]
            var serving: [Serving]
        }
        var generatedAt: String
        var workers: [String]
        var pipelines: [Pipeline]
    }

    struct LineageEntry: Decodable {
        struct Model: Decodable { var dataset: String?; var location: String }
        struct TrainedBy: Decodable {
            var activity: String
            var runId: String
            var windowStart: String
            var externalJobId: String?
            var metrics: [String: Double]?
        }
        struct Input: Decodable {
            struct Fingerprint: Decodable {}
            var dataset: String
            var sliceStart: String
            var fingerprint: Fingerprint?
        }
        var windowStart: String
        var deployRunId: String
        var deployedAt: String
        var kind: String
        var serving: Bool
        var model: Model
        var trainedBy: TrainedBy?
        var inputs: [Input]
        var definitionSha256: String
    }

    @Test("lineage of an activity that deployed nothing yet: one sentence in the table, an empty list in JSON")
    func lineageWithoutDeployments() async throws {
        // A period in the future: the tick makes the database and runs nothing.
        let fixture = try await OperatorFixture.start(hours: 1, start: "2099-01-01T00:00:00Z", end: "2099-01-02T00:00:00Z")
        defer { fixture.stop() }
        let tick = try await fixture.tick()
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        let none = try await fixture.refitWithDefinitions("lineage", "--pipeline", "RetrainPipeline", "--activity", "UpdateScoringEndpoint")
        #expect(none.exitCode == 0 && none.stdout == "No deployments by UpdateScoringEndpoint of RetrainPipeline yet.\n",
                "stdout: \(none.stdout), stderr: \(none.stderr)")
        let json = try await fixture.refitWithDefinitions("lineage", "--pipeline", "RetrainPipeline", "--activity",
                                                          "UpdateScoringEndpoint", "--format", "json")
        #expect(json.exitCode == 0 && json.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "stdout: \(json.stdout)")
    }

    @Test("status shows windows, serving model and next due; lineage links deployments to training runs and data fingerprints")
    func statusAndLineage() async throws {
        let fixture = try await OperatorFixture.start(hours: 3, start: "2026-01-01T00:00:00Z", end: "2026-01-01T05:00:00Z")
        defer { fixture.stop() }
        // Hours 3 and 4 wait for data; the first three run.
        _ = try await fixture.tick()
        let history = try await fixture.history()

        let lineage = try await fixture.refitWithDefinitions("lineage", "--pipeline", "RetrainPipeline", "--activity",
                                                             "UpdateScoringEndpoint", "--format", "json")
        #expect(lineage.exitCode == 0, "stderr: \(lineage.stderr)")
        let entries = try JSONDecoder().decode([LineageEntry].self, from: Data(lineage.stdout.utf8))
        let newest = try #require(entries.first, "deployments: \(lineage.stdout)")
        #expect(newest.serving && entries.dropFirst().allSatisfy { !$0.serving })
        #expect(newest.windowStart == "2026-01-01T02:00:00Z")
        #expect(["scheduled", "backfill"].contains(newest.kind))
        #expect(newest.model.dataset == "TrainedModel" && !newest.model.location.contains("?"), "model: \(newest.model)")
        #expect(newest.definitionSha256.count == 64)
        let trainedBy = try #require(newest.trainedBy)
        let training = try #require(history.first { $0.runId == trainedBy.runId }, "trainedBy.runId is a run in history")
        #expect(training.activity == "Retrain" && training.windowStart == "2026-01-01T02:00:00Z" && training.status == "Succeeded")
        #expect(trainedBy.externalJobId != nil && trainedBy.externalJobId == training.externalJobId)
        #expect(trainedBy.metrics?["R2"] != nil, "metrics: \(String(describing: trainedBy.metrics))")
        #expect(newest.inputs.count == 1 && newest.inputs.first?.dataset == "TrainingData" && newest.inputs.first?.fingerprint != nil,
                "inputs: \(newest.inputs)")
        #expect(history.contains { $0.runId == newest.deployRunId && $0.activity == "UpdateScoringEndpoint" })
        #expect(!lineage.stdout.contains("sig="), "no SAS in lineage output")

        // The reverse: the training run and its input slice both lead to that deployment.
        let byRun = try await fixture.refitWithDefinitions("lineage", "--run", trainedBy.runId, "--format", "json")
        #expect(try JSONDecoder().decode([LineageEntry].self, from: Data(byRun.stdout.utf8)).map(\.deployRunId) == [newest.deployRunId])
        let bySlice = try await fixture.refitWithDefinitions("lineage", "--dataset", "TrainingData", "--slice", "2026-01-01T02:00:00Z",
                                                             "--format", "json")
        #expect(try JSONDecoder().decode([LineageEntry].self, from: Data(bySlice.stdout.utf8)).map(\.deployRunId) == [newest.deployRunId],
                "stderr: \(bySlice.stderr)")

        let status = try await fixture.refitWithDefinitions("status", "--format", "json")
        #expect(status.exitCode == 0, "stderr: \(status.stderr)")
        let document = try JSONDecoder().decode(StatusDocument.self, from: Data(status.stdout.utf8))
        let pipeline = try #require(document.pipelines.first)
        #expect(pipeline.pipeline == "RetrainPipeline" && !pipeline.paused)
        #expect((pipeline.windows["Ready"] ?? 0) + (pipeline.windows["Skipped"] ?? 0) == 6, "windows: \(pipeline.windows)")
        #expect(pipeline.windows["Waiting"] == 4 && pipeline.windows["InProgress"] == 0 && pipeline.windows["Failed"] == 0)
        #expect(pipeline.running.isEmpty && pipeline.workers.isEmpty)
        #expect(pipeline.nextDue == nil, "every window of the period is due")
        let serving = try #require(pipeline.serving.first)
        #expect(serving.activity == "UpdateScoringEndpoint" && serving.runId == newest.deployRunId
                && serving.windowStart == "2026-01-01T02:00:00Z" && serving.model?.contains("?") == false, "serving: \(serving)")
        #expect(document.generatedAt.hasSuffix("Z") && document.workers.isEmpty)
        let table = try await fixture.refitWithDefinitions("status")
        #expect(table.stdout.contains("RetrainPipeline: active") && table.stdout.contains("serving (UpdateScoringEndpoint): window 2026-01-01T02:00:00Z"),
                "table: \(table.stdout)")
    }
}
