import Foundation
import RefitActivities
import RefitCore
import RefitHTTP
import Testing

private let here = SourcePosition(file: "test.json", line: 1, column: 1)
private let storageKey = Data("refit-loopback-storage-key".utf8).base64EncodedString()

/// Definitions for retrain + update against `server`: AzureBlob input by reference, model and
/// evaluation outputs at per-window paths, a `$$` global parameter.
private func definitions(_ server: FakeAML) -> Factory {
    let ml = LinkedService(name: "aml", typeName: "AzureML", kind: .azureML(.init(
        mlEndpoint: .literal(server.base + "/workspaces/ws/services/train/jobs?api-version=2.0"),
        apiKey: Secret(.literal(server.key)),
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
    let train = Activity(name: "retrain", typeName: "AzureMLBatchExecution", kind: .azureMLBatchExecution(.init(
        webServiceInputs: [NamedValue("input1", "training")],
        webServiceOutputs: [NamedValue("output1", "model"), NamedValue("output2", "evaluation")],
        globalParameters: [NamedValue("From", "$$Text.Format('{0:yyyy-MM-dd}', WindowStart)")])),
        inputs: [.init(name: "training", position: here)], outputs: ["model", "evaluation"],
        linkedServiceName: "aml", position: here)
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

extension BatchExecutionActivity {
    /// Polls every 50 ms, so tests against a service that finishes jobs at once run quickly.
    static var fastPolling: BatchExecutionActivity {
        var activity = BatchExecutionActivity()
        activity.initialPoll = .milliseconds(50)
        activity.maxPoll = .milliseconds(50)
        return activity
    }
}

private func context(_ factory: Factory, _ activity: String, journal: any StepJournal) -> ActivityContext {
    let activity = factory.pipelines["p"]!.activity(named: activity)!
    let window = Slice(start: Instant(year: 2024, month: 3, day: 5), end: Instant(year: 2024, month: 3, day: 6))
    return ActivityContext(factory: factory, pipelineName: "p", activity: activity, window: window, journal: journal,
                           http: HTTPClient(configuration: .init(totalTimeout: .seconds(10), maxResponseBytes: 1 << 20)))
}

/// The few cases the real emulator (EmulatorActivitiesTests) cannot produce: refit-mlsim always
/// answers a job's `StatusCode` by name and its bodies are small, so an integer `StatusCode` (which
/// the classic service may also send: 0 NotStarted … 4 Finished) and an oversized response still
/// come from the Python stand-in Support/fake_aml.py.
@Suite struct ActivitiesLoopbackTests {
    @Test func integerStatusCodesAreAccepted() async throws {
        let server = try FakeAML(mode: "intstatus")
        let outcome = try await BatchExecutionActivity.fastPolling.execute(context(definitions(server), "retrain", journal: InMemoryStepJournal()))
        #expect(outcome.metrics["R2"] == 0.9)
    }

    @Test func oversizedResponseIsMalformed() async throws {
        let server = try FakeAML(mode: "huge")
        do {
            _ = try await BatchExecutionActivity.fastPolling.execute(context(definitions(server), "retrain", journal: InMemoryStepJournal()))
            Issue.record("an oversized status response was accepted")
        } catch {
            #expect(error.code == .malformedResponse && error.message.contains("size limit"))
        }
    }
}
