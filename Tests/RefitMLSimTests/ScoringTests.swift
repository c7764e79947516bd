import Foundation
import RefitMLSim
import Testing

/// Request-response scoring: one call scores rows with the model the endpoint serves now, with the
/// endpoint's own key (docs/AZURE-ML-WIRE-PROTOCOL.md, "RRS scoring call" and "What the emulator implements").
@Suite struct ScoringTests {
    @Test func detailsAddsColumnTypes() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let withDetails = try await emu.score(emu.retrain, details: true)
        #expect(withDetails.status == 200)
        let output = try #require((withDetails.object["Results"] as? [String: Any])?["output1"] as? [String: Any])
        #expect(output["type"] as? String == "DataTable")
        let value = try #require(output["value"] as? [String: Any])
        #expect(value["ColumnNames"] as? [String] == ["x1", "x2", "Scored Labels"])
        #expect(value["ColumnTypes"] as? [String] == ["Numeric", "Numeric", "Numeric"])
        #expect(value["Values"] as? [[String]] == [["2", "1", "3"]])
        let plain = try await emu.score(emu.retrain)
        let plainValue = ((plain.object["Results"] as? [String: Any])?["output1"] as? [String: Any])?["value"] as? [String: Any]
        #expect(plainValue?["ColumnTypes"] == nil)
    }

    @Test func rowObjectFormAndNumbersAreAccepted() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let result = try await emu.sendJSON("POST", emu.retrain.executeURL, bearer: emu.retrain.apiKey,
                                            ["Inputs": ["input1": [["x1": 4, "x2": "1.5"]]], "GlobalParameters": [String: String]()])
        let value = ((result.object["Results"] as? [String: Any])?["output1"] as? [String: Any])?["value"] as? [String: Any]
        #expect((value?["Values"] as? [[String]])?.first?.last == "5.5")
    }

    @Test func trainingServiceHasNoRequestResponse() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let url = emu.info.training.jobsURL.replacingOccurrences(of: "/jobs?", with: "/execute?")
        let result = try await emu.sendJSON("POST", url, bearer: emu.trainingKey, ["Inputs": ["input1": ["ColumnNames": ["x1"], "Values": [["1"]]]]])
        #expect(result.status == 400)
        #expect(result.detailCode == "RequestResponseNotSupported")
    }

    @Test func missingFeatureColumnIsInputMismatch() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let result = try await emu.sendJSON("POST", emu.retrain.executeURL, bearer: emu.retrain.apiKey,
                                            ["Inputs": ["input1": ["ColumnNames": ["x1"], "Values": [["1"]]]]])
        #expect(result.status == 400)
        #expect(result.errorCode == "BadUserArgument")
        #expect(result.detailCode == "InputMismatchError")
    }

    @Test func scoringChecksKeyAndVersion() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let body = ["Inputs": ["input1": ["ColumnNames": ["x1", "x2"], "Values": [["1", "1"]]]]]
        let wrongKey = try await emu.sendJSON("POST", emu.retrain.executeURL, bearer: emu.defaultEndpoint.apiKey, body)
        #expect(wrongKey.status == 401)
        #expect(wrongKey.detailCode == "ScoreRequestUnauthorized")
        let wrongVersion = try await emu.sendJSON("POST", emu.retrain.executeURL.replacingOccurrences(of: "2.0", with: "1.0"),
                                                  bearer: emu.retrain.apiKey, body)
        #expect(wrongVersion.detailCode == "BadVersionCall")
        let badBody = try await emu.send("POST", emu.retrain.executeURL, bearer: emu.retrain.apiKey, body: Data("[".utf8))
        #expect(badBody.detailCode == "RequestBodyInvalid")
    }

    @Test func unknownPathIsNotFoundEnvelope() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let result = try await emu.send("GET", "\(emu.info.baseURL)/no/such/thing")
        #expect(result.status == 404)
        #expect(result.errorCode == "NotFound")
    }
}
