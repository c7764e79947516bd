import Foundation
import RefitActivities
import RefitCore
import RefitHTTP
import RefitStorage
import RefitTestKit
import Testing

/// The activities end to end against the real `refit-mlsim` over loopback: one emulator per test,
/// so operation counts and faults never leak between tests.
private let here = SourcePosition(file: "emulator-test.json", line: 1, column: 1)
private let march5 = Slice(start: Instant(year: 2024, month: 3, day: 5), end: Instant(year: 2024, month: 3, day: 6))
private let march6 = Slice(start: Instant(year: 2024, month: 3, day: 6), end: Instant(year: 2024, month: 3, day: 7))
private let probe = #"{"Inputs":{"input1":{"ColumnNames":["x1","x2"],"Values":[["2","1"]]}},"GlobalParameters":{}}"#

/// y = 3·x1 − 2·x2 + 5 + noise in ±0.05, deterministic.
private func trainingCSV(rows: Int = 60, seed: UInt64 = 7) -> Data {
    var state = seed
    func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53)
    }
    var text = "x1,x2,y\n"
    for _ in 0..<rows {
        let x1 = next() * 10, x2 = next() * 10
        let y = 3 * x1 - 2 * x2 + 5 + (next() - 0.5) * 0.1
        text += "\(x1),\(x2),\(y)\n"
    }
    return Data(text.utf8)
}

/// One emulator plus the definitions that point at it.
private struct Lab {
    let emulator: EmulatorProcess
    let http = HTTPClient(configuration: .init(connectTimeout: .seconds(5), totalTimeout: .seconds(10), maxResponseBytes: 1 << 20))

    init(_ flags: [String] = [], upload windows: [Slice] = [march5]) async throws {
        emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"] + flags)
        let blobs = AzureBlobClient(account: try AzureStorageAccount(connectionString: emulator.info.storage.connectionString),
                                    http: http)
        try await blobs.createContainer("data")
        for window in windows {
            try await blobs.putBlob(container: "data", blob: "\(Self.day(window))/train.csv", data: trainingCSV(),
                                    contentType: "text/csv")
        }
    }

    static func day(_ window: Slice) -> String {
        let c = window.start.components
        return String(format: "%04d%02d%02d", c.year, c.month, c.day)
    }

    var retrain: EmulatorProcess.Info.Endpoint {
        get throws { try #require(emulator.info.endpoint("retrain")) }
    }

    /// Two AzureML linked services (training web service; the patchable `retrain` endpoint with its
    /// own key and management URL), one AzureStorage account, per-day partitioned blob datasets.
    func factory(trainingKey: String? = nil, timeout: TimeSpan = .zero, fileShare: URL? = nil) throws -> Factory {
        let info = emulator.info
        let retrain = try self.retrain
        let training = LinkedService(name: "amlTraining", typeName: "AzureML", kind: .azureML(.init(
            mlEndpoint: .literal(info.training.jobsURL), apiKey: Secret(.literal(trainingKey ?? info.training.apiKey)))),
            position: here)
        let updatable = LinkedService(name: "amlRetrain", typeName: "AzureML", kind: .azureML(.init(
            mlEndpoint: .literal(retrain.executeURL), apiKey: Secret(.literal(retrain.apiKey)),
            updateResourceEndpoint: .literal(retrain.managementURL))), position: here)
        let storage = LinkedService(name: "store", typeName: "AzureStorage",
                                    kind: .azureStorage(.init(connectionString: Secret(.literal(info.storage.connectionString)))),
                                    position: here)
        let day = Availability(frequency: .day, interval: 1)
        let token = [PartitionToken(name: "d", date: .sliceStart, format: "yyyyMMdd")]
        func blob(_ name: String, _ folder: String, _ file: String) -> Dataset {
            Dataset(name: name, kind: .azureBlob, linkedServiceName: "store",
                    location: .init(folderPath: folder, fileName: file, partitionedBy: token), availability: day, position: here)
        }
        var datasets = ["training": blob("training", "data/{d}", "train.csv"),
                        "model": blob("model", "models/{d}", "model.ilearner"),
                        "evaluation": blob("evaluation", "models/{d}", "evaluation.csv")]
        var linkedServices = ["amlTraining": training, "amlRetrain": updatable, "store": storage]
        if let fileShare {
            linkedServices["share"] = LinkedService(name: "share", typeName: "OnPremisesFileServer",
                                                    kind: .fileServer(.init(host: fileShare.path)), position: here)
            datasets["training"] = Dataset(name: "training", kind: .fileShare, linkedServiceName: "share",
                                           location: .init(folderPath: "in/{d}", fileName: "train.csv", partitionedBy: token),
                                           availability: day, position: here)
        }
        var policy = ActivityPolicy()
        policy.timeout = timeout
        let train = Activity(name: "retrain", typeName: "AzureMLBatchExecution", kind: .azureMLBatchExecution(.init(
            webServiceInputs: [NamedValue("input1", "training")],
            webServiceOutputs: [NamedValue("output1", "model"), NamedValue("output2", "evaluation")],
            stagingLinkedService: fileShare == nil ? nil : "store")),
            inputs: [.init(name: "training", position: here)], outputs: ["model", "evaluation"],
            linkedServiceName: "amlTraining", policy: policy, position: here)
        let update = Activity(name: "update", typeName: "AzureMLUpdateResource", kind: .azureMLUpdateResource(.init(
            trainedModelName: retrain.trainedModelName, trainedModelDatasetName: "model")),
            inputs: [.init(name: "model", position: here)], outputs: ["placeholder"], linkedServiceName: "amlRetrain",
            position: here)
        return Factory(linkedServices: linkedServices, datasets: datasets,
                       pipelines: ["p": Pipeline(name: "p", activities: [train, update], start: nil, end: nil, position: here)])
    }

    func context(_ factory: Factory, _ activity: String, journal: any StepJournal, window: Slice = march5,
                 deadline: Duration? = nil, clock: any WallClock = SystemWallClock()) throws -> ActivityContext {
        let activity = try #require(factory.pipelines["p"]?.activity(named: activity))
        return ActivityContext(factory: factory, pipelineName: "p", activity: activity, window: window, journal: journal,
                               http: http, clock: clock, deadline: deadline.map { clock.now + $0 })
    }

    /// The retrain endpoint's prediction for x1 = 2, x2 = 1, from one request-response scoring call.
    func scoreRetrain() async throws -> Double {
        let endpoint = try retrain
        let response = try await http.send(HTTPRequest(method: .post, url: endpoint.executeURL,
                                                       headers: ["Authorization": "Bearer \(endpoint.apiKey)",
                                                                 "Content-Type": "application/json"],
                                                       body: Data(probe.utf8)))
        let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        let output = try #require((object["Results"] as? [String: Any])?["output1"] as? [String: Any])
        let rows = try #require((output["value"] as? [String: Any])?["Values"] as? [[String]])
        return try #require(rows.first?.last.flatMap(Double.init))
    }

    func count(_ op: String) async throws -> Int { try await emulator.operations(op).count }

    /// Runs the retrain activity expecting an error, and returns it.
    func failingRetrain(_ factory: Factory, journal: any StepJournal = InMemoryStepJournal(), deadline: Duration? = nil)
        async throws -> ActivityError
    {
        do {
            let outcome = try await BatchExecutionActivity.fastPolling.execute(context(factory, "retrain", journal: journal, deadline: deadline))
            Issue.record("the retrain succeeded with job \(outcome.jobID)")
            throw CancellationError()
        } catch let error as ActivityError {
            return error
        }
    }
}

@Suite struct EmulatorActivitiesTests {
    @Test func retrainPerWindowThenUpdateChangesThePrediction() async throws {
        let lab = try await Lab(upload: [march5, march6])
        let factory = try lab.factory()
        let journal = InMemoryStepJournal()
        let before = try await lab.scoreRetrain()

        let outcome = try await BatchExecutionActivity.fastPolling.execute(lab.context(factory, "retrain", journal: journal))
        #expect(outcome.outputs == ["output1": "models/20240305/model.ilearner", "output2": "models/20240305/evaluation.csv"])
        #expect(try #require(outcome.metrics["R2"]) > 0.999)
        #expect(outcome.metrics["Rows"] == 60)
        #expect(try #require(outcome.metrics["RMSE"]) < 0.1)
        #expect(outcome.notes.isEmpty)
        #expect(try journal.lookup(step: "collect")?.result?["metric:R2"] != nil)

        // Another window trains into its own folder.
        let second = try await BatchExecutionActivity.fastPolling.execute(
            lab.context(factory, "retrain", journal: InMemoryStepJournal(), window: march6))
        #expect(second.outputs["output1"] == "models/20240306/model.ilearner" && second.jobID != outcome.jobID)
        let blobs = AzureBlobClient(account: try AzureStorageAccount(connectionString: lab.emulator.info.storage.connectionString),
                                    http: lab.http)
        let models = try await blobs.listBlobs(container: "models", prefix: "2024").map(\.name).sorted()
        #expect(models == ["20240305/evaluation.csv", "20240305/model.ilearner", "20240306/evaluation.csv", "20240306/model.ilearner"])

        let update = try await UpdateResourceActivity().execute(lab.context(factory, "update", journal: journal))
        #expect(update.patched && update.modelLocation == "models/20240305/model.ilearner")
        let patches = try await lab.emulator.operations("patch")
        #expect(patches.count == 1 && patches.first?.status == 200)

        // y = 3·2 − 2·1 + 5 = 9, where the initial model (x1 + x2) said 3.
        var after = try await lab.scoreRetrain()
        for _ in 0..<50 where after == before {
            try await Task.sleep(for: .milliseconds(100))
            after = try await lab.scoreRetrain()
        }
        #expect(before == 3)
        #expect(abs(after - 9) < 0.1)

        // Nothing secret went into the journal.
        let info = lab.emulator.info
        for record in journal.records {
            let text = "\(record.intent) \(record.result ?? [:])"
            for secret in [info.training.apiKey, info.storage.accountKey, try lab.retrain.apiKey, "sig="] {
                #expect(!text.contains(secret))
            }
        }
    }

    @Test func fileShareInputIsStagedThenTrained() async throws {
        let lab = try await Lab(upload: [])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refit-share-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("in/20240305"), withIntermediateDirectories: true)
        try trainingCSV().write(to: folder.appendingPathComponent("in/20240305/train.csv"))
        let journal = InMemoryStepJournal()
        let outcome = try await BatchExecutionActivity.fastPolling.execute(
            lab.context(try lab.factory(fileShare: folder), "retrain", journal: journal))
        #expect(try #require(outcome.metrics["R2"]) > 0.999)
        let puts = try await lab.emulator.operations("blob-put").map(\.path)
        #expect(puts.contains { $0.hasSuffix("/refit-staging/p/retrain/20240305000000/input1/train.csv") })
        #expect(try journal.lookup(step: "stage-inputs")?.state == .done)
    }

    @Test func crashBetweenSubmitAndRecordingSubmitsOnceMoreAndRecordsTheOrphan() async throws {
        let lab = try await Lab()
        let factory = try lab.factory()
        // Attempt 1 recorded its intent and the submit reached the service, then the worker died
        // before recording the job id.
        let crashed = InMemoryStepJournal(runID: "attempt-1")
        let activity = BatchExecutionActivity.fastPolling
        let context = try lab.context(factory, "retrain", journal: crashed)
        guard case .azureMLBatchExecution(let spec) = context.activity.kind else { Issue.record("kind"); return }
        let request = try await activity.buildRequest(spec, context)
        let client = try AzureMLBatchClient(mlEndpoint: lab.emulator.info.training.jobsURL,
                                            apiKey: lab.emulator.info.training.apiKey, http: lab.http)
        try crashed.record(intent: ["service": client.jobsURL], step: "submit")
        let orphan = try await client.submit(request)
        #expect(try await lab.count("submit") == 1)

        let retry = crashed.attempt(runID: "attempt-2")
        let outcome = try await activity.execute(lab.context(factory, "retrain", journal: retry))
        #expect(outcome.jobID != orphan)
        #expect(try await lab.count("submit") == 2)
        #expect(outcome.notes == [BatchExecutionActivity.orphanNote])
        let record = try #require(try retry.lookup(step: "submit"))
        #expect(record.result?["orphan"] == BatchExecutionActivity.orphanNote && record.result?["orphanRun"] == "attempt-1")

        // A third execution resumes attempt 2's job: no submit, and the orphan note is still reported.
        let third = try await activity.execute(lab.context(factory, "retrain", journal: crashed.attempt(runID: "attempt-3")))
        #expect(third.jobID == outcome.jobID && third.notes == [BatchExecutionActivity.orphanNote])
        #expect(try await lab.count("submit") == 2)
    }

    @Test func recordedJobIsResumedWithoutSubmitting() async throws {
        let lab = try await Lab()
        let factory = try lab.factory()
        let first = InMemoryStepJournal(runID: "attempt-1")
        let outcome = try await BatchExecutionActivity.fastPolling.execute(lab.context(factory, "retrain", journal: first))
        let again = try await BatchExecutionActivity.fastPolling.execute(lab.context(factory, "retrain", journal: first.attempt(runID: "attempt-2")))
        #expect(again.jobID == outcome.jobID && again.metrics == outcome.metrics)
        #expect(try await lab.count("submit") == 1)
        #expect(try await lab.count("start") == 1)
    }

    @Test func patchExecutedTwiceDeploysOnce() async throws {
        let lab = try await Lab()
        let factory = try lab.factory()
        let journal = InMemoryStepJournal(runID: "attempt-1")
        _ = try await BatchExecutionActivity.fastPolling.execute(lab.context(factory, "retrain", journal: journal))
        #expect(try await UpdateResourceActivity().execute(lab.context(factory, "update", journal: journal)).patched)
        let second = try await UpdateResourceActivity().execute(lab.context(factory, "update", journal: journal.attempt(runID: "attempt-2")))
        #expect(!second.patched)
        #expect(try await lab.count("patch") == 1)
    }

    @Test func unknownRecordedJobIsClassifiedAndTheNextAttemptResubmits() async throws {
        let lab = try await Lab()
        let factory = try lab.factory()
        // An earlier attempt recorded a job the service does not know (e.g. it lost its state).
        let journal = InMemoryStepJournal(runID: "attempt-1")
        try journal.record(intent: ["service": "earlier"], step: "submit")
        try journal.record(result: ["jobId": "0123456789abcdef0123456789abcdef"], step: "submit")
        let retry = journal.attempt(runID: "attempt-2")
        let error = try await lab.failingRetrain(factory, journal: retry)
        #expect(error.code == .notFound && error.isRetryable && error.status == 404)
        #expect(error.message.contains("next attempt will submit a new job"))
        let marked = try #require(try retry.lookup(step: "submit"))
        #expect(marked.state == .failed && marked.result?["unknownJobId"] == "0123456789abcdef0123456789abcdef")
        #expect(try await lab.count("submit") == 0)

        let outcome = try await BatchExecutionActivity.fastPolling.execute(lab.context(factory, "retrain", journal: journal.attempt(runID: "attempt-3")))
        #expect(outcome.jobID != "0123456789abcdef0123456789abcdef" && outcome.notes.isEmpty)
        #expect(try await lab.count("submit") == 1)
    }

    // MARK: - Faults through the emulator: each ends in one classified error.

    @Test func submit503IsRetryableWithRetryAfter() async throws {
        let lab = try await Lab(["--fault", "submit:503:count=1:retry-after=7"])
        let journal = InMemoryStepJournal()
        let error = try await lab.failingRetrain(try lab.factory(), journal: journal)
        #expect(error.code == .serviceUnavailable && error.isRetryable && error.status == 503)
        #expect(error.retryAfter == .seconds(7))
        #expect(try journal.lookup(step: "submit")?.state == .failed)
        // Submit is at-most-once per attempt: the worker retries, not the activity.
        #expect(try await lab.count("submit") == 1)
    }

    @Test func transientStatusErrorsArePolledThrough() async throws {
        let lab = try await Lab()
        try await lab.emulator.setFaults(#"{"plans":[{"operation":"status","status":503,"count":2,"retryAfter":1}]}"#)
        let outcome = try await BatchExecutionActivity.fastPolling.execute(lab.context(try lab.factory(), "retrain", journal: InMemoryStepJournal()))
        #expect(outcome.metrics["Rows"] == 60)
    }

    @Test func wrongKeyIsUnauthorizedAndNeverPrinted() async throws {
        let lab = try await Lab()
        let error = try await lab.failingRetrain(try lab.factory(trainingKey: "wrong-key-123"))
        #expect(error.code == .unauthorized && !error.isRetryable && error.status == 401)
        #expect(!error.message.contains("wrong-key-123") && !error.message.contains(lab.emulator.info.training.apiKey))
    }

    @Test func jobFailingWithDetailsIsJobFailed() async throws {
        let lab = try await Lab(["--fault", "jobs:fail=1:details=Module Train Model; Error 0003: column y has missing values"])
        let journal = InMemoryStepJournal()
        let error = try await lab.failingRetrain(try lab.factory(), journal: journal)
        #expect(error.code == .jobFailed && error.isRetryable)
        #expect(error.message.contains("Error 0003: column y has missing values"))
        #expect(try journal.lookup(step: "poll")?.result?["state"] == "Failed")
    }

    /// A garbled answer is the service's passing trouble, not the window's: retryable.
    @Test func malformedSubmitAnswerIsRetryable() async throws {
        let lab = try await Lab(["--fault", "submit:malformed"])
        let error = try await lab.failingRetrain(try lab.factory())
        #expect(error.code == .malformedResponse && error.isRetryable)
    }

    /// One garbled status answer is tolerated while polling, like any transient poll failure.
    @Test func oneMalformedStatusAnswerIsToleratedWhilePolling() async throws {
        let lab = try await Lab(["--fault", "status:malformed:count=1"])
        let outcome = try await BatchExecutionActivity.fastPolling.execute(lab.context(try lab.factory(), "retrain", journal: InMemoryStepJournal()))
        #expect(!outcome.jobID.isEmpty)
    }

    @Test func droppedConnectionIsATransportError() async throws {
        let lab = try await Lab(["--fault", "submit:drop"])
        let error = try await lab.failingRetrain(try lab.factory())
        #expect(error.code == .transport && error.isRetryable)
    }

    @Test func slowStatusBeyondTheTimeoutDeletesTheJob() async throws {
        let lab = try await Lab(["--fault", "status:latency=5000"])
        let journal = InMemoryStepJournal()
        let error = try await lab.failingRetrain(try lab.factory(), journal: journal, deadline: .seconds(1))
        #expect(error.code == .timedOut)
        let deletes = try await lab.emulator.operations("delete")
        let submitted = try await lab.emulator.operations("submit").first?.jobId
        #expect(deletes.count == 1 && deletes.first?.jobId == submitted)
        #expect(try journal.lookup(step: "poll")?.result?["state"] == "TimedOut")
    }

    /// The journal calls an activity makes, in order, over an in-memory journal.
    final class CallLog: StepJournal, @unchecked Sendable {
        let inner = InMemoryStepJournal()
        private let lock = NSLock()
        private var entries: [String] = []
        var calls: [String] { lock.withLock { entries } }
        private func note(_ entry: String) { lock.withLock { entries.append(entry) } }
        var runID: String { inner.runID }
        func record(intent: [String: String], step: String) throws { note("intent \(step)"); try inner.record(intent: intent, step: step) }
        func record(result: [String: String], step: String) throws { note("result \(step)"); try inner.record(result: result, step: step) }
        func record(failure: [String: String], step: String) throws { note("failure \(step)"); try inner.record(failure: failure, step: step) }
        func record(laterResult: [String: String], step: String) throws {
            note("laterResult \(step)"); try inner.record(laterResult: laterResult, step: step)
        }
        func record(laterIntent: [String: String], step: String) throws {
            note("laterIntent \(step)"); try inner.record(laterIntent: laterIntent, step: step)
        }
        func lookup(step: String) throws -> StepRecord? { try inner.lookup(step: step) }
        func flush() throws { note("flush") }
        func handOver() throws { note("handOver") }
    }

    /// The poll's intent is on disk before the first status call (and so before any wait for a
    /// running job); what follows it is held and handed over when the activity ends.
    @Test func lastStepsAreHandedOverAtTheEnd() async throws {
        for flags in [[], ["--job-duration", "1"]] {
            let lab = try await Lab(flags)
            let log = CallLog()
            _ = try await BatchExecutionActivity.fastPolling.execute(lab.context(try lab.factory(), "retrain", journal: log))
            #expect(log.calls == ["intent submit", "laterResult submit", "intent start", "laterResult start", "intent poll",
                                  "laterResult poll", "laterIntent collect", "laterResult collect", "handOver"], "\(flags)")
            #expect(try log.lookup(step: "collect")?.state == .done)
        }
    }

    /// A shutdown past its grace period, or a lease another worker took over, cancels the attempt
    /// before its timeout: the job keeps running and the next execution resumes it.
    @Test func interruptedBeforeTheTimeoutKeepsTheJobForTheNextAttempt() async throws {
        let lab = try await Lab(["--job-duration", "8"])
        let factory = try lab.factory()
        let journal = InMemoryStepJournal()
        let context = try lab.context(factory, "retrain", journal: journal, deadline: .seconds(120))
        let first = Task { try await BatchExecutionActivity.fastPolling.execute(context) }
        var started = false
        for _ in 0..<500 where !started {
            started = try await !lab.emulator.operations("start").isEmpty
            if !started { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(started)
        // Cancel while polling: once the start call's answer is journaled (on a loaded machine
        // that can take a while after the emulator saw the call).
        for _ in 0..<500 where (try? journal.lookup(step: "start"))??.state != .done {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))
        first.cancel()
        do {
            let outcome = try await first.value
            Issue.record("the interrupted attempt succeeded with job \(outcome.jobID)")
        } catch let error as ActivityError {
            #expect(error.code == .canceled && error.message.contains("resumes"), "\(error)")
        }
        #expect(try await lab.emulator.operations("delete").isEmpty, "the job was deleted")

        let resumed = try await BatchExecutionActivity.fastPolling.execute(try lab.context(factory, "retrain", journal: journal))
        let submits = try await lab.emulator.operations("submit")
        #expect(submits.count == 1 && resumed.jobID == submits.first?.jobId, "submits: \(submits)")
    }

    @Test func refusedConnectionIsATransportError() async throws {
        let lab = try await Lab()
        let factory = try lab.factory()
        await lab.emulator.stop()
        let error = try await lab.failingRetrain(factory)
        #expect(error.code == .transport && error.isRetryable)
    }

    @Test func unreachableHostIsATransportError() async throws {
        let lab = try await Lab()
        var factory = try lab.factory()
        factory.linkedServices["amlTraining"]?.kind = .azureML(.init(
            mlEndpoint: .literal("http://refit-no-such-host.invalid/workspaces/w/services/s/jobs"), apiKey: Secret(.literal("k"))))
        let error = try await lab.failingRetrain(factory)
        #expect(error.code == .transport && error.isRetryable)
    }
}
