import Foundation
import RefitMLSim
import Testing

/// Operations log and `--state` persistence.
@Suite struct OperationsAndStateTests {
    private func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("refit-mlsim-\(UUID().uuidString)", isDirectory: true)
    }

    @Test func operationsLogCountsMutatingCalls() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let emu = try await TestEmulator.start { $0.stateDirectory = dir }
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        _ = try await emu.submit(emu.trainingRequest(), version: "9.9")
        _ = try await emu.patch(emu.retrain, emu.patchBody(try emu.location(finished.status)))
        _ = try await emu.patch(emu.retrain, emu.patchBody(try emu.location(finished.status)))
        let records = try await emu.operations()
        let ops = records.compactMap { $0["op"] as? String }
        #expect(ops.filter { $0 == "submit" }.count == 2)
        #expect(ops.filter { $0 == "patch" }.count == 2)
        #expect(ops.filter { $0 == "start" }.count == 1)
        #expect(!ops.contains("status"))
        let submits = records.filter { $0["op"] as? String == "submit" }
        #expect(submits.compactMap { $0["status"] as? Int } == [200, 400])
        #expect(submits.first?["jobId"] as? String == finished.id)
        #expect(submits.first?["resourceLocation"] as? String == "data/train.csv")
        let patch = try #require(records.last { $0["op"] as? String == "patch" })
        #expect(patch["endpoint"] as? String == "retrain")
        #expect(patch["resourceLocation"] as? String == "models/out.ilearner")
        #expect(records.allSatisfy { !(($0["path"] as? String) ?? "?").contains("?") })
        // The JSON-lines file holds the same records.
        let lines = try String(contentsOf: dir.appendingPathComponent("operations.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == records.count)
        #expect(!lines.joined().contains(emu.info.storage.accountKey))
    }

    @Test func stateSurvivesRestart() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try await TestEmulator.start { $0.stateDirectory = dir }
        let finished = try await first.train(csv: linearCSV())
        #expect(try await first.patch(first.retrain, first.patchBody(try first.location(finished.status))).status == 200)
        let base = String(first.retrain.managementURL.dropLast("/retrain".count))
        #expect(try await first.sendJSON("PUT", "\(base)/ep01", bearer: first.info.managementToken, [String: Any]()).status == 200)
        let patchedLabel = try await first.scoredLabel(first.retrain)
        await first.stop()

        let second = try await TestEmulator.start { $0.stateDirectory = dir; $0.seed = 7 }
        defer { Task { await second.stop() } }
        #expect(second.info.workspaceId == first.info.workspaceId)
        #expect(second.info.storage.accountKey == first.info.storage.accountKey)
        #expect(second.retrain.apiKey == first.retrain.apiKey)
        #expect(second.info.predictive.endpoints.map(\.name) == ["default", "retrain", "ep01"])
        #expect(try await second.scoredLabel(second.retrain) == patchedLabel)
        #expect(try await second.scoredLabel(second.defaultEndpoint) == "3")
        let status = try await second.status(finished.id).object
        #expect(status["StatusCode"] as? String == "Finished")
        #expect(try await second.fetch(try second.location(status)).status == 200)
        #expect(try await second.operations().contains { $0["op"] as? String == "patch" })
    }
}
