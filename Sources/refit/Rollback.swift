import ArgumentParser
import Foundation
import RefitActivities
import RefitCore
import RefitRuntime
import RefitDefinitions
import RefitStore
import RefitWorker

/// `refit rollback`: PATCHes an update activity's endpoint with the model that the window at
/// `--to` trained. An audited, forced deployment of kind `rollback`, made by a run of its own.
/// Afterwards monotonic deployments compare against the rolled-back window: the endpoint serves
/// that model until a newer window deploys normally; an older window's update is Superseded.
struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Deploy the model an earlier window trained to an update activity's endpoint (audited).",
        discussion: """
            Exit codes: 0 deployed; 1 invalid input (unknown pipeline or activity, not an update activity, a window that \
            never trained, a time without zone); 3 the PATCH failed or the database is unusable.
            """)

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @Option(help: "The pipeline.") var pipeline: String
    @Option(help: "The AzureMLUpdateResource activity whose endpoint to roll back.") var activity: String
    @Option(name: .customLong("to"), help: ArgumentHelp("The start of the window whose model to deploy.", valueName: "time"),
            transform: Plan.parseTime) var to: Instant
    @Option(help: "Why (recorded in the audit log).") var reason: String
    @Option(help: "Who asks (default: $USER).") var actor: String?

    func run() async throws {
        let factory = try definitions.loadFactory()
        guard let pipelineDef = factory.pipelines[pipeline] else {
            throw CLIFailure.invalidInput("No pipeline named '\(pipeline)' in \(definitions.schedules).")
        }
        guard let activityDef = pipelineDef.activity(named: activity) else {
            let known = pipelineDef.activities.map(\.name).joined(separator: ", ")
            throw CLIFailure.invalidInput("Pipeline '\(pipeline)' has no activity named '\(activity)' (it has \(known)).")
        }
        guard case .azureMLUpdateResource(let spec) = activityDef.kind else {
            throw CLIFailure.invalidInput("Activity '\(activity)' is not an AzureMLUpdateResource activity; only an update activity's endpoint can be rolled back.")
        }
        let schedule = try? factory.windows(of: activityDef, in: pipelineDef)
        guard let window = schedule?.windows(from: to, to: to + TimeSpan(seconds: 1)).first, window.start == to else {
            throw CLIFailure.invalidInput("No window of activity '\(activity)' starts at \(to.iso8601); give the start of one of its windows.")
        }
        let store = try database.openOperator()
        defer { store.close() }
        let actor = self.actor ?? ProcessInfo.processInfo.environment["USER"] ?? "operator"
        let environment = ProcessInfo.processInfo.environment
        let scheduling = store.rollbacks
        let key = ActivityKey(pipeline: pipeline, activity: activity)
        let runID = RunID.make()
        let sha = (try? WorkerSetup.recordDefinitions(factory, database: store))?[pipeline] ?? String(repeating: "0", count: 64)
        let workerID = WorkerIdentity.current().description
        let reason = self.reason, schedulesDirectory = definitions.schedules, start = to
        let outcome: Result<String, CLIFailure> = try await { () async throws -> Result<String, CLIFailure> in
            let begun = try await scheduling.beginRollback(key, start: start, modelDataset: spec.trainedModelDatasetName,
                                                           workerID: workerID, runID: runID, definitionSHA256: sha, actor: actor,
                                                           reason: reason, now: SystemWallClock().now())
            switch begun {
            case .noWindow:
                return .failure(.invalidInput("The window of '\(key.activity)' at \(start.iso8601) never ran; nothing it trained can be deployed."))
            case .neverTrained(let dataset):
                return .failure(.invalidInput("No model was trained for the window at \(start.iso8601): dataset '\(dataset)' has no Ready slice there."))
            case .busy:
                return .failure(.invalidInput("An attempt of '\(key.activity)' at \(start.iso8601) is running; wait for it or cancel it first."))
            case .started:
                break
            }
            let context = ActivityContext(
                factory: factory, pipelineName: key.pipeline, activity: activityDef, window: window,
                journal: store.journal(runID: runID, endsWithFinish: false), http: WorkerSetup.http,
                secrets: SecretResolver(environment: environment, baseDirectory: schedulesDirectory))
            do {
                let endpoint = try Self.endpoint(of: activityDef, factory: factory, environment: environment)
                while case .busy = try await scheduling.claimEndpointForRollback(endpoint, runID: runID, now: SystemWallClock().now()) {
                    try await Task.sleep(for: .milliseconds(200))
                }
                let done = try await UpdateResourceActivity(alwaysPatch: true).execute(context)
                let deployment = ProducedDeployment(endpoint: done.endpoint, modelLocation: done.modelLocation, modelWindow: window,
                                                    reason: "rollback", forced: true)
                try await scheduling.finishRollback(runID: runID, deployment: deployment, failure: nil, actor: actor, reason: reason,
                                                    now: SystemWallClock().now())
                return .success("Rolled back \(key.activity): its endpoint now serves the model of \(start.iso8601) (run \(runID)).")
            } catch let error as ActivityError {
                try await scheduling.finishRollback(runID: runID, deployment: nil, failure: error.message, actor: actor, reason: reason,
                                                    now: SystemWallClock().now())
                return .failure(.internal("The rollback failed: \(error.message)"))
            }
        }()
        switch outcome {
        case .success(let line): print(line)
        case .failure(let failure): throw failure
        }
    }

    static func endpoint(of activity: Activity, factory: Factory, environment: [String: String]) throws(ActivityError) -> String {
        guard let service = activity.linkedServiceName.flatMap({ factory.linkedServices[$0] }),
              case .azureML(let ml) = service.kind, let setting = ml.updateResourceEndpoint,
              let endpoint = setting.resolve(environment: environment) else {
            throw ActivityError(.configuration, "The AzureML linked service of activity '\(activity.name)' has no usable updateResourceEndpoint.")
        }
        return endpoint
    }
}
