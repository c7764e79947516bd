import Foundation
import RefitMLSim
import Testing

/// Endpoint management: GET, PUT and PATCH of a web service's endpoints, and the update-resource rule
/// that only a patchable endpoint takes a new trained model, which then scores after the propagation
/// delay (docs/AZURE-ML-WIRE-PROTOCOL.md, "Classic web-service endpoint management" and "What the emulator implements").
@Suite struct EndpointManagementTests {
    private func listURL(_ emu: TestEmulator) -> String {
        String(emu.retrain.managementURL.dropLast("/retrain".count))
    }

    @Test func listAndGetShowEndpointObjects() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let list = try await emu.send("GET", listURL(emu), bearer: emu.info.managementToken)
        #expect(list.status == 200)
        let endpoints = try #require(list.json as? [[String: Any]])
        #expect(endpoints.compactMap { $0["Name"] as? String } == ["default", "retrain"])
        let one = try await emu.send("GET", emu.retrain.managementURL, bearer: emu.retrain.apiKey).object
        #expect(one["PrimaryKey"] as? String == emu.retrain.apiKey)
        #expect(one["WorkspaceId"] as? String == emu.info.workspaceId)
        #expect((one["ApiLocation"] as? String).map { emu.retrain.executeURL.hasPrefix($0 + "/execute") } == true)
        let resources = try #require(one["Resources"] as? [[String: Any]])
        #expect(resources.first?["Name"] as? String == "Refit Demo Model [trained model]")
    }

    @Test func patchingTheDefaultEndpointIsRefused() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        let result = try await emu.patch(emu.defaultEndpoint, emu.patchBody(try emu.location(finished.status)))
        #expect(result.status == 400)
        #expect(result.errorCode == "BadArgument")
        #expect(result.detailCode == "EndpointNotUpdatable")
        #expect(try await emu.scoredLabel(emu.defaultEndpoint) == "3")
    }

    @Test func unknownResourceNameIsRefused() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        let result = try await emu.patch(emu.retrain, emu.patchBody(try emu.location(finished.status), name: "Other [trained model]"))
        #expect(result.status == 400)
        #expect(result.detailCode == "InvalidResourceName")
    }

    @Test func nonILearnerBlobIsInvalidBlobExtension() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        let result = try await emu.patch(emu.retrain, emu.patchBody(try emu.location(finished.status, "output2")))
        #expect(result.status == 400)
        #expect(result.detailCode == "InvalidBlobExtension")
    }

    @Test func unreadableBlobIsBlobNotFound() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        // A token for another blob does not grant access.
        var location = try emu.location(finished.status)
        location["RelativeLocation"] = "models/elsewhere.ilearner"
        let wrongToken = try await emu.patch(emu.retrain, emu.patchBody(location))
        #expect(wrongToken.status == 400)
        #expect(wrongToken.detailCode == "BlobNotFound")
        // A connection-string reference to a blob that does not exist.
        let missing = try await emu.patch(emu.retrain, emu.patchBody(emu.ref("models/absent.ilearner")))
        #expect(missing.status == 400)
        #expect(missing.detailCode == "BlobNotFound")
        #expect(try await emu.scoredLabel(emu.retrain) == "3")
    }

    @Test func trainingServiceHasNoUpdatableResources() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        let result = try await emu.sendJSON("PATCH", emu.info.training.managementURL, bearer: emu.trainingKey,
                                            emu.patchBody(try emu.location(finished.status)))
        #expect(result.status == 400)
        #expect(result.detailMessage == "This Web Service has no updatable resources.")
    }

    @Test func patchSwapsTheRetrainModelAndLeavesDefaultAlone() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        #expect(try await emu.scoredLabel(emu.retrain) == "3")
        let finished = try await emu.train(csv: linearCSV(), output1: "models/run7.ilearner")
        let result = try await emu.patch(emu.retrain, emu.patchBody(try emu.location(finished.status)))
        #expect(result.status == 200)
        // 3·2 − 2·1 + 5 = 9.
        let text = try await emu.scoredLabel(emu.retrain)
        let label = try #require(text.flatMap(Double.init))
        #expect(abs(label - 9) < 0.05)
        #expect(try await emu.scoredLabel(emu.defaultEndpoint) == "3")
        let endpoint = try await emu.send("GET", emu.retrain.managementURL, bearer: emu.retrain.apiKey).object
        let location = ((endpoint["Resources"] as? [[String: Any]])?.first?["Location"] as? [String: Any])
        #expect(location?["RelativeLocation"] as? String == "models/run7.ilearner")
    }

    @Test func modelSwapWaitsForThePropagationDelay() async throws {
        let clock = ManualClock()
        let emu = try await TestEmulator.start {
            $0.propagationDelay = .seconds(30)
            $0.now = { clock.now }
        }
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        #expect(try await emu.patch(emu.retrain, emu.patchBody(try emu.location(finished.status))).status == 200)
        clock.advance(seconds: 29)
        #expect(try await emu.scoredLabel(emu.retrain) == "3")
        clock.advance(seconds: 2)
        let text = try await emu.scoredLabel(emu.retrain)
        let label = try #require(text.flatMap(Double.init))
        #expect(abs(label - 9) < 0.05)
    }

    @Test func endpointsCanBeAddedUpToTheLimitAndDeleted() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let base = listURL(emu)
        let created = try await emu.sendJSON("PUT", "\(base)/ep01", bearer: emu.retrain.apiKey,
                                             ["Description": "third", "ThrottleLevel": "Low", "MaxConcurrentCalls": 4])
        #expect(created.status == 200)
        let key = try #require(created.object["PrimaryKey"] as? String)
        #expect(key != emu.retrain.apiKey)
        // The new endpoint scores with the initial model and its own key.
        let apiLocation = try #require(created.object["ApiLocation"] as? String)
        #expect(try await emu.scoredLabel(executeURL: apiLocation + "/execute?api-version=2.0", key: key) == "3")
        // A fourth endpoint exceeds the limit.
        let fourth = try await emu.sendJSON("PUT", "\(base)/ep02", bearer: emu.info.managementToken, [String: Any]())
        #expect(fourth.status == 400)
        #expect(fourth.detailCode == "EndpointLimitReached")
        // Delete it, then it is gone.
        #expect(try await emu.send("DELETE", "\(base)/ep01", bearer: key).status == 200)
        let gone = try await emu.send("GET", "\(base)/ep01", bearer: emu.info.managementToken)
        #expect(gone.status == 404)
        #expect(gone.errorCode == "NotFound")
        // The default endpoint cannot be deleted.
        let keep = try await emu.send("DELETE", "\(base)/default", bearer: emu.info.managementToken)
        #expect(keep.status == 400)
        #expect(keep.detailCode == "CannotDeleteDefaultEndpoint")
    }

    @Test func managementNeedsTheEndpointKeyOrWorkspaceToken() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        for bearer in ["wrong", emu.trainingKey, emu.defaultEndpoint.apiKey] {
            let result = try await emu.send("GET", emu.retrain.managementURL, bearer: bearer)
            #expect(result.status == 401)
            #expect(result.detailCode == "ManagementRequestUnauthorized")
        }
        #expect(try await emu.send("GET", emu.retrain.managementURL, bearer: emu.info.managementToken).status == 200)
    }

    @Test func unknownWorkspaceOrWebServiceIsNotFound() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let otherWorkspace = emu.retrain.managementURL.replacingOccurrences(of: emu.info.workspaceId, with: String(repeating: "a", count: 32))
        #expect(try await emu.send("GET", otherWorkspace, bearer: emu.info.managementToken).detailCode == "WorkspaceNotFound")
        let otherService = emu.retrain.managementURL.replacingOccurrences(of: emu.info.predictive.webServiceId, with: String(repeating: "b", count: 32))
        #expect(try await emu.send("GET", otherService, bearer: emu.info.managementToken).detailCode == "WebServiceIdNotFoundInWorkspace")
    }
}
