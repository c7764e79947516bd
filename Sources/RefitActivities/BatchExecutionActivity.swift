import CoreMetrics
import Foundation
import RefitCore
import RefitHTTP
import RefitStorage

/// What a retrain produced.
public struct BatchExecutionOutcome: Hashable, Sendable {
    public var jobID: String
    /// Web service output name → `container/path` it was written to.
    public var outputs: [String: String]
    /// Evaluation metrics read from the evaluation output (`Metric,Value` rows).
    public var metrics: [String: Double]
    /// Things the audit log should say, e.g. a possibly orphaned job after a crash.
    public var notes: [String]
}

/// `AzureMLBatchExecution`: stage inputs → submit → start → poll → collect, each step journaled
/// so a re-execution resumes the recorded job instead of submitting another.
public struct BatchExecutionActivity: Sendable {
    /// Poll interval bounds: starts at `initialPoll`, doubles up to `maxPoll` (decision record
    /// 30): a job that finishes just after the first status call is seen within 50 ms, and a
    /// long one costs about four status calls more than with a 500 ms start.
    public var initialPoll: Duration = .milliseconds(50)
    public var maxPoll: Duration = .seconds(5)
    /// Consecutive retryable poll failures tolerated before giving up.
    public var maxTransientPollFailures = 8

    /// From the window's data landing (last input slice Ready) to the batch job's submission.
    public static let dataToSubmitMetric = "refit_data_to_submit_seconds"

    public static let orphanNote = "a previous submit's outcome is unknown; its job may be orphaned"

    public init() {}

    public func execute(_ context: ActivityContext) async throws(ActivityError) -> BatchExecutionOutcome {
        guard case .azureMLBatchExecution(let spec) = context.activity.kind else {
            throw ActivityError(.configuration, "Activity '\(context.activity.name)' is not an AzureMLBatchExecution activity.")
        }
        // The results of stage-inputs, submit, start and poll are written with the next step's
        // intent, and collect's intent with its result (one transaction instead of two each);
        // whatever is still held when the activity ends, by success or by an error, is handed over
        // to the transaction that records the attempt's outcome.
        defer { try? context.journal.handOver() }
        let (ml, apiKey, serviceName) = try context.azureML()
        let client = try AzureMLBatchClient(mlEndpoint: context.secrets.value(of: ml.mlEndpoint, what: "mlEndpoint of '\(serviceName)'"), apiKey: apiKey, http: context.http)
        let request = try await buildRequest(spec, context)
        var notes: [String] = []

        let jobID = try await submit(request, client: client, context: context, notes: &notes)
        let status: BatchJobStatus
        do {
            try await start(jobID, client: client, context: context)
            status = try await poll(jobID, client: client, context: context)
        } catch where error.code == .notFound {
            throw try forgetUnknownJob(jobID, cause: error, context: context)
        } catch where error.code == .jobFailed || error.code == .timedOut {
            // The job failed, or timed out and was deleted: a retry must submit a new job, not
            // resume this one. (A cancellation keeps the job: a restarted worker resumes it.)
            try forget(jobID, message: error.message, context: context)
            throw error
        }
        return try await collect(jobID, status: status, spec: spec, context: context, notes: notes)
    }

    /// The service does not know the job (expired, or the service lost its state): resuming it can
    /// never succeed, so the submit step is marked failed for this run and the next attempt submits
    /// a new job instead of polling this id again.
    private func forgetUnknownJob(_ jobID: String, cause: ActivityError, context: ActivityContext) throws(ActivityError)
        -> ActivityError
    {
        let error = ActivityError(.notFound, "Batch job \(jobID) is unknown to the service (HTTP 404); the next attempt will submit a new job.",
                                  isRetryable: true, status: cause.status, serviceCode: cause.serviceCode)
        try forget(jobID, message: error.message, key: "unknownJobId", context: context)
        return error
    }

    /// Marks the submit step failed for this run, so the next attempt submits a new job instead
    /// of resuming `jobID` (which is unknown, failed, cancelled or deleted).
    private func forget(_ jobID: String, message: String, key: String = "endedJobId",
                        context: ActivityContext) throws(ActivityError) {
        let journal = context.journal
        let previous = try context.journalCall { try journal.lookup(step: "submit") }
        var failure = previous?.result ?? [:]
        failure["jobId"] = nil
        failure[key] = jobID
        failure["message"] = message
        try context.journalCall { try journal.record(intent: previous?.intent ?? [:], step: "submit") }
        try context.journalCall { try journal.record(failure: failure, step: "submit") }
    }

    // MARK: - Request building (stage-inputs)

    /// Inputs from the input datasets (FileShare staged into blob storage first), outputs at the
    /// output datasets' per-window locations, global parameters with `$$` resolved.
    public func buildRequest(_ spec: Activity.BatchExecution, _ context: ActivityContext) async throws(ActivityError)
        -> BatchExecutionRequest
    {
        var inputNames = spec.webServiceInputs
        if let single = spec.webServiceInput { inputNames.insert(NamedValue("input1", single), at: 0) }
        var inputs: [String: BlobReference] = [:]
        var staging: [(name: String, file: String, account: AzureStorageAccount, container: String, blob: String)] = []
        for entry in inputNames {
            let dataset = try context.dataset(entry.value)
            let path = try context.path(of: dataset)
            switch dataset.kind {
            case .azureBlob:
                let account = try context.storageAccount(dataset.linkedServiceName)
                inputs[entry.name] = BlobReference(connectionString: account.connectionString, relativeLocation: path)
            case .fileShare:
                guard let stagingService = spec.stagingLinkedService else {
                    throw ActivityError(.configuration, "Input '\(dataset.name)' is a FileShare dataset; activity '\(context.activity.name)' needs typeProperties.stagingLinkedService to stage it.")
                }
                let server = try context.linkedService(dataset.linkedServiceName, what: "file server")
                guard case .fileServer(let files) = server.kind else {
                    throw ActivityError(.configuration, "Linked service '\(server.name)' is not an OnPremisesFileServer.")
                }
                let account = try context.storageAccount(stagingService)
                let fileName = (path as NSString).lastPathComponent
                let blob = [context.pipelineName, context.activity.name, context.windowStamp, entry.name, fileName]
                    .joined(separator: "/")
                staging.append((entry.name, context.folder(of: files) + "/" + path, account, "refit-staging", blob))
                inputs[entry.name] = BlobReference(connectionString: account.connectionString,
                                                   relativeLocation: "refit-staging/" + blob)
            case .amazonS3:
                throw ActivityError(.configuration, "Input '\(dataset.name)' is an AmazonS3 dataset, which Azure ML batch jobs cannot read.")
            }
        }
        if !staging.isEmpty { try await stage(staging, context) }

        var outputs: [String: BlobReference] = [:]
        for entry in spec.webServiceOutputs {
            let dataset = try context.dataset(entry.value)
            guard dataset.kind == .azureBlob else {
                throw ActivityError(.configuration, "Output '\(dataset.name)' must be an AzureBlob dataset.")
            }
            let account = try context.storageAccount(dataset.linkedServiceName)
            let path = try context.path(of: dataset)
            _ = try splitBlobPath(path)
            outputs[entry.name] = BlobReference(connectionString: account.connectionString, relativeLocation: path)
        }

        var parameters: [String: String] = [:]
        let expressionContext = ExpressionContext(window: context.window)
        for parameter in spec.globalParameters {
            do {
                parameters[parameter.name] = try ExpressionTemplate.expand(parameter.value, in: expressionContext)
            } catch {
                throw ActivityError(.configuration, "Global parameter '\(parameter.name)': \(error.message)")
            }
        }
        return BatchExecutionRequest(inputs: inputs, outputs: outputs, globalParameters: parameters)
    }

    /// Uploads FileShare inputs to their deterministic staging blobs (PUT is idempotent, so a
    /// re-execution simply uploads again unless the journal shows the same staging done).
    private func stage(_ files: [(name: String, file: String, account: AzureStorageAccount, container: String, blob: String)],
                       _ context: ActivityContext) async throws(ActivityError) {
        var intent: [String: String] = [:]
        for file in files { intent[file.name] = file.container + "/" + file.blob }
        let journal = context.journal
        if let previous = try context.journalCall({ try journal.lookup(step: "stage-inputs") }),
           previous.state == .done, previous.intent == intent, previous.runID == journal.runID {
            return
        }
        // The uploads are idempotent (the same bytes to names derived from the window), so the
        // intent is held and written with submit's, before the first effect that is not.
        try context.journalCall { try journal.record(laterIntent: intent, step: "stage-inputs") }
        do throws(ActivityError) {
            for file in files {
                // The slice was found Ready when it was probed; the file may have been removed or
                // replaced since. A later attempt may find it again, so the retry policy decides.
                guard let data = FileManager.default.contents(atPath: file.file) else {
                    let reason = FileManager.default.fileExists(atPath: file.file)
                        ? "cannot be read" : "does not exist (it was removed after its slice was found Ready)"
                    throw ActivityError(.storage, "Input file '\(file.file)' of '\(file.name)' \(reason).", isRetryable: true)
                }
                let client = AzureBlobClient(account: file.account, http: context.http)
                do {
                    // The container usually exists: put first, and create it only when the put
                    // says it is missing (a blob PUT answers 404 for nothing else).
                    do {
                        try await client.putBlob(container: file.container, blob: file.blob, data: data, contentType: "text/csv")
                    } catch where error.code == .notFound {
                        try await client.createContainer(file.container)
                        try await client.putBlob(container: file.container, blob: file.blob, data: data, contentType: "text/csv")
                    }
                } catch {
                    throw ActivityError.from(error)
                }
            }
        } catch {
            try? journal.record(failure: ["message": error.message], step: "stage-inputs")
            throw error
        }
        try context.journalCall { try journal.record(laterResult: intent, step: "stage-inputs") }
    }

    // MARK: - submit / start / poll / collect

    private func submit(_ request: BatchExecutionRequest, client: AzureMLBatchClient, context: ActivityContext,
                        notes: inout [String]) async throws(ActivityError) -> String {
        let journal = context.journal
        let previous = try context.journalCall { try journal.lookup(step: "submit") }
        if let previous, previous.state == .done, let jobID = previous.result?["jobId"] {
            // A recorded job is resumed, never resubmitted; an orphan noted when it was submitted
            // stays in the outcome so the worker can still audit it.
            if let orphan = previous.result?["orphan"] { notes.append(orphan) }
            return jobID
        }
        var result: [String: String] = [:]
        if let previous, previous.state == .intent {
            notes.append(Self.orphanNote)
            result["orphan"] = Self.orphanNote
            result["orphanRun"] = previous.runID
        }
        try context.journalCall { try journal.record(intent: ["service": client.jobsURL], step: "submit") }
        let jobID: String
        do {
            jobID = try await client.submit(request)
        } catch {
            try? journal.record(failure: ["message": error.message], step: "submit")
            throw error
        }
        result["jobId"] = jobID
        try context.journalCall { try journal.record(laterResult: result, step: "submit") }
        if let landed = context.dataReadyAt {
            // Seconds of the wall clock (the slice's Ready time is one), never negative.
            let seconds = max(0, context.clock.now.date.timeIntervalSince(landed))
            CoreMetrics.Timer(label: Self.dataToSubmitMetric, dimensions: [("pipeline", context.pipelineName), ("activity", context.activity.name)])
                .recordNanoseconds(Int64(seconds * 1_000_000_000))
        }
        return jobID
    }

    private func start(_ jobID: String, client: AzureMLBatchClient, context: ActivityContext) async throws(ActivityError) {
        let journal = context.journal
        if let previous = try context.journalCall({ try journal.lookup(step: "start") }), previous.state == .done,
           previous.intent["jobId"] == jobID {
            return
        }
        try context.journalCall { try journal.record(intent: ["jobId": jobID], step: "start") }
        do {
            try await client.start(jobID: jobID)
        } catch where error.serviceCode == "CannotStartJob" {
            // Already left NotStarted (an earlier start got through): confirm with a GET.
            let status = try await client.status(jobID: jobID)
            guard status.state != .notStarted else {
                try? journal.record(failure: ["message": error.message], step: "start")
                throw error
            }
        } catch {
            try? journal.record(failure: ["message": error.message], step: "start")
            throw error
        }
        try context.journalCall { try journal.record(laterResult: ["jobId": jobID], step: "start") }
    }

    private func poll(_ jobID: String, client: AzureMLBatchClient, context: ActivityContext) async throws(ActivityError)
        -> BatchJobStatus
    {
        let journal = context.journal
        // Written now (carrying start's result), not held: a job still running keeps the poll's
        // intent on disk while it runs, and the commit gives a job that takes a few milliseconds
        // the time to finish before the first status call (decision record 28).
        try context.journalCall { try journal.record(intent: ["jobId": jobID], step: "poll") }
        var delay = initialPoll
        var transientFailures = 0
        while true {
            if context.isPastDeadline {
                await Self.delete(jobID, client: client)
                let error = ActivityError(.timedOut, "Batch job \(jobID) did not finish within the activity timeout; it was deleted.")
                try? journal.record(failure: ["message": error.message, "state": "TimedOut"], step: "poll")
                throw error
            }
            do throws(ActivityError) {
                // A slow answer must not outlast the activity timeout.
                let remaining = context.remaining.map {
                    min(max($0, .milliseconds(100)), context.http.configuration.totalTimeout)
                }
                let status = try await client.status(jobID: jobID, timeout: remaining)
                transientFailures = 0
                switch status.state {
                case .finished:
                    try context.journalCall { try journal.record(laterResult: ["state": "Finished"], step: "poll") }
                    return status
                case .failed:
                    let details = status.details.map { ": " + ActivityError.clip($0) } ?? "."
                    // ADF retries a failed execution up to policy.retry; the retry submits a new job.
                    let error = ActivityError(.jobFailed, "Batch job \(jobID) failed" + details, isRetryable: true)
                    try? journal.record(failure: ["message": error.message, "state": "Failed"], step: "poll")
                    throw error
                case .cancelled:
                    let error = ActivityError(.canceled, "Batch job \(jobID) was cancelled.")
                    try? journal.record(failure: ["message": error.message, "state": "Cancelled"], step: "poll")
                    throw error
                case .notStarted, .running:
                    break
                }
            } catch where error.isRetryable && error.code != .jobFailed && transientFailures < maxTransientPollFailures {
                transientFailures += 1
                if let wait = error.retryAfter, wait > delay { delay = min(wait, .seconds(60)) }
            } catch where error.code == .canceled && Task.isCancelled {
                // The attempt was stopped (its timeout passed, a shutdown, a lost lease) while a
                // status call was in flight: as when the stop comes between two polls.
                throw try await canceledWhilePolling(jobID, client: client, context: context)
            } catch {
                if error.code != .jobFailed && error.code != .canceled {
                    try? journal.record(failure: ["message": error.message], step: "poll")
                }
                throw error
            }
            var wait = delay
            if let remaining = context.remaining { wait = min(wait, remaining) }
            do {
                try await context.clock.sleep(for: wait)
            } catch {
                throw try await canceledWhilePolling(jobID, client: client, context: context)
            }
            delay = min(delay * 2, maxPoll)
        }
    }

    /// The attempt was cancelled while its job runs. At (or past) the activity's timeout the job
    /// is deleted and forgotten, so the retry submits anew. Before it — a graceful shutdown past
    /// its grace period, or a lease that another worker took over — the job is left running and
    /// stays in the journal: the next attempt resumes it, whichever worker runs it.
    private func canceledWhilePolling(_ jobID: String, client: AzureMLBatchClient, context: ActivityContext)
        async throws(ActivityError) -> ActivityError
    {
        // The worker cancels at the deadline on the same clock, so past it means timed out.
        let pastDeadline = context.isPastDeadline
        let byOperator = context.canceledByOperator()
        guard pastDeadline || byOperator else {
            return ActivityError(.canceled, "Waiting for batch job \(jobID) was interrupted; the job keeps running and the next attempt resumes it.")
        }
        await Self.delete(jobID, client: client)
        let error = ActivityError(.canceled, byOperator ? "Batch job \(jobID) was canceled by an operator; the job was deleted."
                                                        : "Waiting for batch job \(jobID) was cancelled; the job was deleted.")
        try? context.journal.record(failure: ["message": error.message, "state": "Deleted"], step: "poll")
        try forget(jobID, message: error.message, context: context)
        return error
    }

    /// DELETEs the job, best effort, even from a cancelled task: the request runs in a task of
    /// its own, so the cancellation that ended the attempt does not also cancel its cleanup.
    private static func delete(_ jobID: String, client: AzureMLBatchClient) async {
        await Task { try? await client.delete(jobID: jobID) }.value
    }

    private func collect(_ jobID: String, status: BatchJobStatus, spec: Activity.BatchExecution, context: ActivityContext,
                         notes: [String]) async throws(ActivityError) -> BatchExecutionOutcome {
        let journal = context.journal
        // Reading the outputs changes nothing: the intent travels with the result.
        try context.journalCall { try journal.record(laterIntent: ["jobId": jobID], step: "collect") }
        var outputs: [String: String] = [:]
        for entry in spec.webServiceOutputs {
            outputs[entry.name] = try context.path(of: try context.dataset(entry.value))
        }
        for (name, ref) in status.results where outputs[name] == nil {
            outputs[name] = ref.RelativeLocation
        }
        var metrics: [String: Double] = [:]
        // The evaluation output: the CSV result (output2 by convention).
        let evaluation = status.results.sorted { $0.key < $1.key }.first {
            $0.value.RelativeLocation.lowercased().hasSuffix(".csv")
        }
        if let evaluation, let url = evaluation.value.sasURL {
            let response = try await AzureMLHTTP.send(context.http, HTTPRequest(url: url, target: "blob"),
                                                      operation: "Reading evaluation output '\(evaluation.key)'")
            metrics = Self.parseMetrics(response.text)
        }
        var result = outputs.mapValues { $0 }
        for (name, value) in metrics { result["metric:" + name] = String(value) }
        try context.journalCall { try journal.record(laterResult: result, step: "collect") }
        return BatchExecutionOutcome(jobID: jobID, outputs: outputs, metrics: metrics, notes: notes)
    }

    /// `Metric,Value` rows (a header row and non-numeric values are skipped).
    public static func parseMetrics(_ csv: String) -> [String: Double] {
        var metrics: [String: Double] = [:]
        for line in csv.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimming(while: { $0 == " " || $0 == "\t" || $0 == "\"" }) }
            guard fields.count >= 2, !fields[0].isEmpty, let value = Double(fields[1]) else { continue }
            metrics[fields[0]] = value
        }
        return metrics
    }
}
