import Foundation
import RefitMLSim
import Testing

/// Batch execution: submit, start, poll, cancel and delete a training job, with the service's error
/// codes for a bad body, a wrong key or a job in the wrong state — one test per rule or error code
/// (docs/AZURE-ML-WIRE-PROTOCOL.md, "Classic Batch Execution Service" and "What the emulator implements").
@Suite struct BatchExecutionTests {
    @Test func submitReturnsJobIdAsJSONString() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let result = try await emu.submit(emu.trainingRequest())
        #expect(result.status == 200)
        #expect(result.text.hasPrefix("\"") && result.text.hasSuffix("\""))
        let id = try #require(result.json as? String)
        #expect(id.count == 32 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(try await emu.status(id).object["StatusCode"] as? String == "NotStarted")
    }

    @Test(arguments: ["1.0", "2", nil] as [String?])
    func wrongOrMissingApiVersionIsBadVersionCall(version: String?) async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let result = try await emu.submit(emu.trainingRequest(), version: version)
        #expect(result.status == 400)
        #expect(result.errorCode == "BadArgument")
        #expect(result.detailCode == "BadVersionCall")
    }

    @Test func invalidBodyIsRequestBodyInvalid() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let result = try await emu.send("POST", emu.info.training.jobsURL, bearer: emu.trainingKey, body: Data("{not json".utf8))
        #expect(result.status == 400)
        #expect(result.detailCode == "RequestBodyInvalid")
    }

    @Test func inputAndInputsTogetherIsDuplicateInputInBatchCall() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let result = try await emu.submit(["Input": emu.ref("data/train.csv"), "Inputs": ["input1": emu.ref("data/train.csv")]])
        #expect(result.status == 400)
        #expect(result.detailCode == "DuplicateInputInBatchCall")
    }

    @Test func singleInputFormWithLeadingSlashIsAccepted() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let body: [String: Any] = ["Input": ["ConnectionString": emu.info.storage.connectionString, "RelativeLocation": "/data/train.csv",
                                             "BaseLocation": NSNull(), "SasBlobToken": NSNull()],
                                   "Outputs": NSNull(), "GlobalParameters": NSNull()]
        let result = try await emu.submit(body)
        #expect(result.status == 200, "\(result.text)")
    }

    @Test func unknownInputNameIsInvalidInputNames() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let result = try await emu.submit(["Inputs": ["Input1": emu.ref("data/train.csv")]])
        #expect(result.status == 400)
        #expect(result.detailCode == "InvalidInputNames")
    }

    @Test func unknownOrMiscasedOutputNameIsInvalidOutputOverrideName() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let result = try await emu.submit(["Inputs": ["input1": emu.ref("data/train.csv")],
                                           "Outputs": ["Output1": emu.ref("models/a.ilearner")]])
        #expect(result.status == 400)
        #expect(result.detailCode == "InvalidOutputOverrideName")
    }

    @Test(arguments: [("models/a.csv", "models/e.csv"), ("models/a.ilearner", "models/e.ilearner"), ("models/a", "models/e.csv")])
    func wrongOutputExtensionIsInvalidBlobExtension(output1: String, output2: String) async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let result = try await emu.submit(emu.trainingRequest(output1: output1, output2: output2))
        #expect(result.status == 400)
        #expect(result.detailCode == "InvalidBlobExtension")
        #expect(result.detailMessage?.contains("has an invalid or missing file extension") == true)
    }

    @Test func missingInputIsBatchJobInputsNotSpecified() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        for body: [String: Any] in [["Outputs": ["output1": emu.ref("m/a.ilearner")]], ["Inputs": [String: Any]()]] {
            let result = try await emu.submit(body)
            #expect(result.status == 400)
            #expect(result.detailCode == "BatchJobInputsNotSpecified")
        }
    }

    @Test func missingInputBlobIsBlobNotFoundAtSubmit() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let result = try await emu.submit(emu.trainingRequest(input: "data/absent.csv"))
        #expect(result.status == 400)
        #expect(result.detailCode == "BlobNotFound")
    }

    @Test func wrongAccountKeyIsInvalidBlobConnectionString() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let wrong = "DefaultEndpointsProtocol=http;AccountName=\(emu.info.storage.accountName);AccountKey=bm90LXRoZS1rZXk="
        let result = try await emu.submit(["Inputs": ["input1": ["ConnectionString": wrong, "RelativeLocation": "data/train.csv"]]])
        #expect(result.status == 400)
        #expect(result.detailCode == "InvalidBlobConnectionString")
        #expect(!result.text.contains(emu.info.storage.accountKey))
    }

    @Test func sasInputReferenceMustCarryAValidToken() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        // The evaluation CSV's SAS reference is a valid input reference.
        let good = try emu.location(finished.status, "output2")
        #expect(try await emu.submit(["Inputs": ["input1": good]]).status == 200)
        // The same token used for another blob is refused.
        try await emu.upload("data/other.csv", Data(linearCSV().utf8))
        var bad = good
        bad["RelativeLocation"] = "data/other.csv"
        let result = try await emu.submit(["Inputs": ["input1": bad]])
        #expect(result.status == 400)
        #expect(result.detailCode == "InvalidBlob")
    }

    @Test func unknownGlobalParameterIsUnexpectedParameter() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let result = try await emu.submit(emu.trainingRequest(parameters: ["URI": "https://example.invalid/x.csv"]))
        #expect(result.status == 400)
        #expect(result.detailCode == "UnexpectedParameter")
    }

    @Test func lifecycleReachesFinishedWithReadOnlySASResults() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let id = try await emu.submitJob(emu.trainingRequest())
        let before = try await emu.status(id).object
        #expect(before["StatusCode"] as? String == "NotStarted")
        #expect(before["Results"] is NSNull)
        #expect(try await emu.start(id).status == 200)
        let done = try await emu.waitForJob(id)
        #expect(done["StatusCode"] as? String == "Finished")
        #expect(done["Details"] is NSNull)
        let results = try #require(done["Results"] as? [String: Any])
        #expect(Set(results.keys) == ["output1", "output2"])
        let output1 = try #require(results["output1"] as? [String: Any])
        #expect(output1["ConnectionString"] is NSNull)
        #expect(output1["RelativeLocation"] as? String == "models/out.ilearner")
        #expect(output1["BaseLocation"] as? String == emu.info.storage.blobEndpoint + "/")
        let token = try #require(output1["SasBlobToken"] as? String)
        #expect(token.hasPrefix("?") && token.contains("sp=r") && token.contains("sig="))
        // The model blob is readable through BaseLocation + RelativeLocation + SasBlobToken, not without the token.
        let location = try emu.location(done)
        let model = try await emu.fetch(location)
        #expect(model.status == 200)
        #expect(model.object["format"] as? String == "refit-mlsim-linear/1")
        #expect(try await emu.send("GET", "\(location["BaseLocation"]!)\(location["RelativeLocation"]!)").status == 403)
        // output2 is the evaluation CSV.
        let evaluation = try await emu.fetch(try emu.location(done, "output2"))
        #expect(evaluation.text.hasPrefix("Metric,Value\nRMSE,"))
        #expect(evaluation.text.contains("\nR2,") && evaluation.text.contains("\nRows,60"))
    }

    @Test func jobsWithoutOutputsWriteToDefaultStorage() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let id = try await emu.submitJob(["Inputs": ["input1": emu.ref("data/train.csv")]])
        _ = try await emu.start(id)
        let done = try await emu.waitForJob(id)
        let location = try emu.location(done)
        #expect((location["RelativeLocation"] as? String)?.hasSuffix(".ilearner") == true)
        #expect(try await emu.fetch(location).status == 200)
    }

    @Test func startingTwiceIsCannotStartJob() async throws {
        let emu = try await TestEmulator.start { $0.jobDuration = .seconds(60) }
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let id = try await emu.submitJob(emu.trainingRequest())
        #expect(try await emu.start(id).status == 200)
        let again = try await emu.start(id)
        #expect(again.status == 400)
        #expect(again.errorCode == "InvalidOperation")
        #expect(again.detailCode == "CannotStartJob")
        #expect(again.detailMessage == "The job cannot be started because it is in Running state.")
    }

    @Test func deleteCancelsNotStartedAndRunningJobs() async throws {
        let emu = try await TestEmulator.start { $0.jobDuration = .seconds(60) }
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let waiting = try await emu.submitJob(emu.trainingRequest())
        let running = try await emu.submitJob(emu.trainingRequest())
        _ = try await emu.start(running)
        for id in [waiting, running] {
            let result = try await emu.send("DELETE", "\(emu.jobsBase)/\(id)?api-version=2.0", bearer: emu.trainingKey)
            #expect(result.status == 200)
            let object = try await emu.status(id).object
            #expect(object["StatusCode"] as? String == "Cancelled")
            #expect(object["Results"] is NSNull)
        }
        #expect(try await emu.start(waiting).detailCode == "CannotStartJob")
    }

    @Test func unknownJobIdIsNotFound() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let missing = String(repeating: "0", count: 32)
        for (method, suffix) in [("GET", ""), ("DELETE", ""), ("POST", "/start")] {
            let result = try await emu.send(method, "\(emu.jobsBase)/\(missing)\(suffix)?api-version=2.0", bearer: emu.trainingKey)
            #expect(result.status == 404)
            #expect(result.errorCode == "NotFound")
            #expect(result.detailCode == "JobNotFound")
        }
    }

    @Test func wrongOrMissingKeyIsUnauthorizedEnvelope() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        for key in [emu.retrain.apiKey, "nope", nil] as [String?] {
            let result = try await emu.send("POST", emu.info.training.jobsURL, bearer: key, body: Data("{}".utf8))
            #expect(result.status == 401)
            #expect(result.errorCode == "Unauthorized")
            #expect(result.detailCode == "ScoreRequestUnauthorized")
            #expect(result.detailMessage == "Invalid credentials provided.")
        }
    }

    @Test func everyStatusGetIssuesAFreshToken() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        var tokens: [String] = []
        for _ in 0..<3 {
            let location = try emu.location(try await emu.status(finished.id).object)
            tokens.append(try #require(location["SasBlobToken"] as? String))
        }
        func item(_ token: String, _ name: String) -> String? {
            URLComponents(string: token)?.queryItems?.first { $0.name == name }?.value
        }
        #expect(Set(tokens.compactMap { item($0, "sig") }).count == 3)
        let expiries = tokens.compactMap { item($0, "se") }
        #expect(expiries == expiries.sorted() && Set(expiries).count == 3)
        for token in tokens {
            #expect(try await emu.send("GET", "\(emu.info.storage.blobEndpoint)/models/out.ilearner\(token)").status == 200)
        }
    }

    @Test func badTrainingDataEndsFailedWithDetails() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let done = try await emu.train(csv: "x1,x2,y\n1,2,3\n2,abc,5\n3,1,4\n4,2,8\n").status
        #expect(done["StatusCode"] as? String == "Failed")
        #expect(done["Results"] is NSNull)
        let details = try #require(done["Details"] as? String)
        #expect(details.contains("x2") && details.contains("non-numeric"))
    }

    @Test func labelColumnParameterChoosesTheLabel() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        // Label first: y = 2·a + 1.
        let csv = "y,a\n" + (0..<10).map { "\(2 * Double($0) + 1),\(Double($0))" }.joined(separator: "\n")
        try await emu.upload("data/train.csv", Data(csv.utf8))
        let id = try await emu.submitJob(emu.trainingRequest(parameters: ["labelColumn": "y"]))
        _ = try await emu.start(id)
        let model = try await emu.fetch(try emu.location(try await emu.waitForJob(id)))
        #expect(model.object["labelColumn"] as? String == "y")
        let coefficient = try #require((model.object["coefficients"] as? [String: Any])?["a"] as? Double)
        #expect(abs(coefficient - 2) < 1e-9)
    }

    @Test func predictiveEndpointsDoNotTakeBatchJobs() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let url = emu.retrain.executeURL.replacingOccurrences(of: "/execute?", with: "/jobs?")
        let result = try await emu.sendJSON("POST", url, bearer: emu.retrain.apiKey, emu.trainingRequest())
        #expect(result.status == 400)
        #expect(result.errorCode == "InvalidOperation")
    }
}
