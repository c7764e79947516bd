import Foundation
import RefitActivities
import RefitCore
import RefitHTTP
import Testing

private let here = SourcePosition(file: "test.json", line: 1, column: 1)
private let storageKey = Data("refit-loopback-storage-key".utf8).base64EncodedString()

/// Definitions for retrain + update against `server`: AzureBlob input by reference, model and
/// evaluation outputs at per-window paths, a `$$` global parameter.
private func definitions(_ server: FakeAML, apiKey: String? = nil, timeout: TimeSpan = .zero) -> Factory {
    let ml = LinkedService(name: "aml", typeName: "AzureML", kind: .azureML(.init(
        mlEndpoint: .literal(server.base + "/workspaces/ws/services/train/jobs?api-version=2.0"),
        apiKey: Secret(.literal(apiKey ?? server.key)),
        updateResourceEndpoint: .literal(server.base + "/workspaces/ws/webservices/pred/endpoints/retrain"))), position: here)
    let storage = LinkedService(name: "store", typeName: "AzureStorage", kind: .azureStorage(.init(connectionString: Secret(
        .literal("DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=\(storageKey);BlobEndpoint=\(server.base)/blob")))),
        position: here)
    let day = Availability(frequency: .day, interval: 1)
    let token = [PartitionToken(name: "d", date: .sliceStart, format: "yyyyMMdd")]
    func blob(_ name: String, _ folder: String, _ file: String) -> Dataset {
        Dataset(name: name, kind: .azureBlob, linkedServiceName: "store",
                location: .init(folderPath: folder, fileName: file, partitionedBy: token), availability: day, position: here)
    }
    var trainPolicy = ActivityPolicy()
    trainPolicy.timeout = timeout
    let train = Activity(name: "retrain", typeName: "AzureMLBatchExecution", kind: .azureMLBatchExecution(.init(
        webServiceInputs: [NamedValue("input1", "training")],
        webServiceOutputs: [NamedValue("output1", "model"), NamedValue("output2", "evaluation")],
        globalParameters: [NamedValue("From", "$$Text.Format('{0:yyyy-MM-dd}', WindowStart)")])),
        inputs: [.init(name: "training", position: here)], outputs: ["model", "evaluation"],
        linkedServiceName: "aml", policy: trainPolicy, position: here)
    let update = Activity(name: "update", typeName: "AzureMLUpdateResource", kind: .azureMLUpdateResource(.init(
        trainedModelName: "Model [trained model]", trainedModelDatasetName: "model")),
        inputs: [.init(name: "model", position: here)], outputs: ["placeholder"], linkedServiceName: "aml", position: here)
    let pipeline = Pipeline(name: "p", activities: [train, update], start: nil, end: nil, position: here)
    return Factory(linkedServices: ["aml": ml, "store": storage],
                   datasets: ["training": blob("training", "data/{d}", "train.csv"),
                              "model": blob("model", "models/{d}", "model.ilearner"),
                              "evaluation": blob("evaluation", "models/{d}", "evaluation.csv")],
                   pipelines: ["p": pipeline])
}

private func context(_ factory: Factory, _ activity: String, journal: any StepJournal, timeout: Duration? = nil)
    -> ActivityContext
{
    let activity = factory.pipelines["p"]!.activity(named: activity)!
    let window = Slice(start: Instant(year: 2024, month: 3, day: 5), end: Instant(year: 2024, month: 3, day: 6))
    return ActivityContext(factory: factory, pipelineName: "p", activity: activity, window: window, journal: journal,
                           http: HTTPClient(configuration: .init(totalTimeout: .seconds(10), maxResponseBytes: 1 << 20)),
                           deadline: timeout.map { ContinuousClock.now + $0 },
                           sleep: { try await Task.sleep(for: min($0, .milliseconds(50))) })
}

@Suite struct ActivitiesLoopbackTests {
    @Test func retrainThenUpdate() async throws {
        let server = try FakeAML()
        let factory = definitions(server)
        let journal = InMemoryStepJournal()
        let outcome = try await BatchExecutionActivity().execute(context(factory, "retrain", journal: journal))
        #expect(outcome.outputs["output1"] == "models/20240305/model.ilearner")
        #expect(outcome.metrics == ["RMSE": 0.25, "R2": 0.9])
        #expect(outcome.notes.isEmpty)
        let update = try await UpdateResourceActivity().execute(context(factory, "update", journal: journal))
        #expect(update.patched && update.modelLocation == "models/20240305/model.ilearner")
        let ops = try await server.operations()
        #expect(ops.filter { $0 == "POST /workspaces/ws/services/train/jobs" }.count == 1)
        #expect(ops.filter { $0.hasPrefix("PATCH ") }.count == 1)
        // Nothing secret went into the journal.
        for record in journal.records {
            let text = "\(record.intent) \(record.result ?? [:])"
            #expect(!text.contains(server.key) && !text.contains(storageKey) && !text.contains("sig="))
        }
    }

    @Test func crashBetweenSubmitAndRecordSubmitsOnceMoreAndNotesTheOrphan() async throws {
        let server = try FakeAML()
        let factory = definitions(server)
        let crashed = InMemoryStepJournal(runID: "attempt-1")
        try crashed.record(intent: ["service": "x"], step: "submit")  // the crash: no result recorded
        let retry = crashed.attempt(runID: "attempt-2")
        let outcome = try await BatchExecutionActivity().execute(context(factory, "retrain", journal: retry))
        #expect(outcome.notes == [BatchExecutionActivity.orphanNote])
        #expect(try retry.lookup(step: "submit")?.result?["orphan"] == BatchExecutionActivity.orphanNote)
        #expect(try await server.operations().filter { $0.hasSuffix("/jobs") && $0.hasPrefix("POST") }.count == 1)
    }

    @Test func recordedJobIsResumedNotResubmitted() async throws {
        let server = try FakeAML()
        let factory = definitions(server)
        let first = InMemoryStepJournal(runID: "attempt-1")
        let outcome = try await BatchExecutionActivity().execute(context(factory, "retrain", journal: first))
        let again = try await BatchExecutionActivity().execute(context(factory, "retrain", journal: first.attempt(runID: "attempt-2")))
        #expect(again.jobID == outcome.jobID)
        #expect(try await server.operations().filter { $0.hasSuffix("/jobs") && $0.hasPrefix("POST") }.count == 1)
    }

    @Test func patchExecutedTwiceDeploysOnce() async throws {
        let server = try FakeAML()
        let factory = definitions(server)
        let journal = InMemoryStepJournal(runID: "attempt-1")
        #expect(try await UpdateResourceActivity().execute(context(factory, "update", journal: journal)).patched)
        #expect(try await !UpdateResourceActivity().execute(context(factory, "update", journal: journal.attempt(runID: "attempt-2"))).patched)
        #expect(try await server.operations().filter { $0.hasPrefix("PATCH ") }.count == 1)
    }

    @Test func integerStatusCodesAreAccepted() async throws {
        let server = try FakeAML(mode: "intstatus")
        let outcome = try await BatchExecutionActivity().execute(context(definitions(server), "retrain", journal: InMemoryStepJournal()))
        #expect(outcome.metrics["R2"] == 0.9)
    }

    @Test(arguments: [("fail", ActivityError.Code.jobFailed), ("malformed", .malformedResponse), ("huge", .malformedResponse)])
    func faultsEndInOneClassifiedError(mode: String, code: ActivityError.Code) async throws {
        let server = try FakeAML(mode: mode)
        do {
            _ = try await BatchExecutionActivity().execute(context(definitions(server), "retrain", journal: InMemoryStepJournal()))
            Issue.record("mode \(mode) succeeded")
        } catch {
            #expect(error.code == code)
            if mode == "fail" { #expect(error.message.contains("Error 0003")) }
        }
    }

    @Test func timeoutDeletesTheJob() async throws {
        let server = try FakeAML(mode: "slow")
        let journal = InMemoryStepJournal()
        do {
            _ = try await BatchExecutionActivity().execute(context(definitions(server), "retrain", journal: journal,
                                                                   timeout: .milliseconds(400)))
            Issue.record("a job that never finishes succeeded")
        } catch {
            #expect(error.code == .timedOut)
        }
        #expect(try await server.operations().contains { $0.hasPrefix("DELETE ") })
        #expect(try journal.lookup(step: "poll")?.result?["state"] == "TimedOut")
    }

    @Test func wrongKeyIsUnauthorizedAndNeverPrinted() async throws {
        let server = try FakeAML()
        do {
            _ = try await BatchExecutionActivity().execute(context(definitions(server, apiKey: "wrong-key-123"), "retrain",
                                                                   journal: InMemoryStepJournal()))
            Issue.record("a wrong key succeeded")
        } catch {
            #expect(error.code == .unauthorized && !error.message.contains("wrong-key-123"))
        }
    }

    @Test func refusedConnectionIsATransportError() async throws {
        let port: Int
        do { let server = try FakeAML(); port = server.port }  // closed again: nothing listens there now
        try await Task.sleep(for: .milliseconds(200))
        var factory = definitions(try FakeAML())
        factory.linkedServices["aml"]!.kind = .azureML(.init(mlEndpoint: .literal("http://127.0.0.1:\(port)/workspaces/ws/services/s/jobs"),
                                                             apiKey: Secret(.literal("k"))))
        do {
            _ = try await BatchExecutionActivity().execute(context(factory, "retrain", journal: InMemoryStepJournal()))
            Issue.record("a refused connection succeeded")
        } catch {
            #expect(error.code == .transport && error.isRetryable)
        }
    }

    @Test func fileShareInputIsStagedAtADeterministicPath() async throws {
        let server = try FakeAML()
        var factory = definitions(server)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refit-share-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("in/20240305"), withIntermediateDirectories: true)
        try Data("x,y\n1,2\n".utf8).write(to: folder.appendingPathComponent("in/20240305/train.csv"))
        defer { try? FileManager.default.removeItem(at: folder) }
        factory.linkedServices["share"] = LinkedService(name: "share", typeName: "OnPremisesFileServer",
                                                        kind: .fileServer(.init(host: folder.path)), position: here)
        factory.datasets["training"] = Dataset(name: "training", kind: .fileShare, linkedServiceName: "share",
            location: .init(folderPath: "in/{d}", fileName: "train.csv",
                            partitionedBy: [PartitionToken(name: "d", date: .sliceStart, format: "yyyyMMdd")]),
            availability: Availability(frequency: .day, interval: 1), position: here)
        var pipeline = try #require(factory.pipelines["p"])
        guard case .azureMLBatchExecution(var spec) = pipeline.activities[0].kind else { Issue.record("kind"); return }
        spec.stagingLinkedService = "store"
        pipeline.activities[0].kind = .azureMLBatchExecution(spec)
        factory.pipelines["p"] = pipeline
        let journal = InMemoryStepJournal()
        let ctx = context(factory, "retrain", journal: journal)
        let request = try await BatchExecutionActivity().buildRequest(spec, ctx)
        #expect(request.Inputs["input1"]?.RelativeLocation == "refit-staging/p/retrain/20240305000000/input1/train.csv")
        #expect(request.GlobalParameters == ["From": "2024-03-05"])
        let ops = try await server.operations()
        #expect(ops.contains("PUT /blob/refit-staging/p/retrain/20240305000000/input1/train.csv"))
        #expect(try journal.lookup(step: "stage-inputs")?.state == .done)
    }
}
