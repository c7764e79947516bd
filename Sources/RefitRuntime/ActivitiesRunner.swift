import Foundation
import RefitActivities
import RefitCore
import RefitDefinitions
import RefitHTTP
import RefitStore

/// The worker's bridge to RefitActivities: turns one `AttemptContext` into an `ActivityContext`
/// (journal on the attempt's run row, one shared HTTP client, secrets relative to the schedules
/// folder), runs the activity kind, and maps its outcome or `ActivityError` onto the worker's
/// `AttemptOutcome` so retries, timeouts and D14 deployments are decided in one place.
struct ActivitiesRunner: ActivityRunner {
    let database: WorkerDatabase
    let http: HTTPClient
    let environment: [String: String]
    /// The schedules folder: secret files and relative paths resolve against it.
    let baseDirectory: String

    func run(_ attempt: AttemptContext) async -> AttemptOutcome {
        var context = ActivityContext(
            factory: attempt.factory, pipelineName: attempt.pipeline.name, activity: attempt.activity,
            window: attempt.window, journal: database.journal(runID: attempt.runID),
            http: http, secrets: SecretResolver(environment: environment, baseDirectory: baseDirectory),
            clock: attempt.clock, deadline: attempt.deadline,
            canceledByOperator: { [stop = attempt.stop] in stop.isCanceledByOperator })
        do {
            switch attempt.activity.kind {
            case .azureMLBatchExecution:
                // When the window's data landed, for `refit_data_to_submit_seconds`.
                if let landed = try? database.dataReadyAt(pipeline: attempt.pipeline.name, activity: attempt.activity.name,
                                                                           windowStart: attempt.window.start) {
                    context.dataReadyAt = Date(timeIntervalSince1970: TimeInterval(landed.secondsSinceEpoch))
                }
                let outcome = try await BatchExecutionActivity().execute(context)
                let metrics = outcome.metrics.isEmpty ? nil : Self.json(outcome.metrics)
                let outputs = outcome.outputs.sorted { $0.key < $1.key }.map {
                    ProducedOutput(name: $0.key, location: $0.value, evaluationJSON: metrics)
                }
                return .succeeded(AttemptResult(outputs: outputs, resultJSON: outcome.notes.isEmpty ? nil : Self.json(outcome.notes),
                                                externalJobID: outcome.jobID))
            case .azureMLUpdateResource:
                // D14: never PATCH an older model over one trained on a newer window. Checked
                // under the endpoint's lock before the PATCH (the worker's own check at recording
                // time is the backstop).
                if let reason = try await claimEndpoint(for: attempt) {
                    return .skipped(.superseded, reason: reason)
                }
                let outcome = try await UpdateResourceActivity().execute(context)
                let deployment = ProducedDeployment(endpoint: outcome.endpoint, modelLocation: outcome.modelLocation,
                                                    modelWindow: attempt.window, reason: attempt.trigger.rawValue)
                return .succeeded(AttemptResult(resultJSON: Self.json(["patched": outcome.patched ? "true" : "false"]),
                                                deployment: deployment))
            case .command:
                let outcome = try await CommandActivity().execute(context)
                return .succeeded(AttemptResult(resultJSON: Self.json(["exitStatus": String(outcome.exitStatus),
                                                                       "outputTail": outcome.outputTail])))
            }
        } catch {
            return Self.outcome(of: error)
        }
    }

    /// Takes the endpoint's deployment lock for this attempt (waiting while another attempt holds
    /// it) and returns nil, or returns why this update window must not deploy: a newer window's
    /// model already serves its endpoint (D14). Holding the lock until the run ends keeps the
    /// check, the PATCH and the deployment record of concurrent update attempts from interleaving.
    func claimEndpoint(for attempt: AttemptContext) async throws(ActivityError) -> String? {
        guard let endpoint = endpoint(of: attempt.activity, in: attempt.factory) else { return nil }
        let scheduling = database.scheduling
        // The worker's claim asked once already, in its own transaction: its answer comes first.
        var claimAnswer = attempt.endpointClaim
        while true {
            let claim: EndpointClaim
            if let answer = claimAnswer {
                claim = answer
                claimAnswer = nil
            } else {
                do {
                    claim = try await scheduling.claimEndpoint(endpoint, runID: attempt.runID,
                                                               modelWindowStart: attempt.window.start, now: attempt.clock.now())
                } catch {
                    throw ActivityError(.journal, "Could not read the deployments of the endpoint: \(error)", isRetryable: true)
                }
            }
            switch claim {
            case .acquired:
                return nil
            case .superseded(let serving):
                return "A model trained on the newer window starting \(serving.iso8601) already serves this endpoint; "
                    + "the model of \(attempt.window.start.iso8601) is not deployed over it (D14)."
            case .busy:
                do {
                    try await attempt.clock.sleep(for: .milliseconds(200))
                } catch {
                    throw ActivityError(.canceled, "Canceled while another attempt was deploying to the endpoint.")
                }
            }
        }
    }

    /// The endpoint an update activity PATCHes (its linked service's `updateResourceEndpoint`,
    /// resolved against the environment); nil for other activities.
    func endpoint(of activity: Activity, in factory: Factory) -> String? {
        guard case .azureMLUpdateResource = activity.kind,
              let service = activity.linkedServiceName.flatMap({ factory.linkedServices[$0] }),
              case .azureML(let ml) = service.kind, let setting = ml.updateResourceEndpoint else { return nil }
        return setting.resolve(environment: environment)
    }

    /// An `ActivityError` as the worker's outcome: timeouts and cancellations keep their own
    /// states; everything else fails retryable or terminal as the activity classified it.
    static func outcome(of error: ActivityError) -> AttemptOutcome {
        if error.code == .timedOut { return .timedOut(message: error.message) }
        if error.code == .canceled || Task.isCancelled { return .canceled(message: error.message) }
        return .failed(error.isRetryable ? .retryable : .terminal, message: error.message)
    }

    /// A result's JSON (keys sorted): `JSONString` from typed values rather than `JSONEncoder`,
    /// which cost tens of thousands of instructions per attempt. Nil when a metric is not a number
    /// JSON can hold.
    static func json(_ metrics: [String: Double]) -> String? {
        var numbers: [String: String] = [:]
        for (name, value) in metrics {
            guard let number = JSONString.number(value) else { return nil }
            numbers[name] = number
        }
        return JSONString.object(rawValues: numbers)
    }
    static func json(_ fields: [String: String]) -> String { JSONString.object(fields) }
    static func json(_ notes: [String]) -> String { JSONString.array(notes) }
}
