import ArgumentParser
import Foundation
import RefitCore
import RefitDefinitions
import RefitRuntime
import RefitStore

/// `refit lineage`: the deployment history of an update activity's endpoint, newest first, each
/// with the model it put there, the training run that produced the model (its job, metrics and
/// the input slices it read, with the data fingerprints seen when it was claimed) and the
/// definition it ran with. `--run` and `--dataset/--slice` answer the reverse question: what a
/// training run, or a data slice, led to. Model locations are shown without their query string,
/// so no SAS token is printed.
struct Lineage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "Show which models an endpoint served and what they were trained on (or what a run or slice led to).",
        discussion: """
            Give --pipeline with --activity (an AzureMLUpdateResource activity), or --run RUN_ID, or --dataset with --slice.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @Option(help: "The pipeline.") var pipeline: String?
    @Option(help: "The update-resource activity whose endpoint's history to show.") var activity: String?
    @Option(name: .customLong("run"), help: ArgumentHelp("The deployments this run (training or update) led to.", valueName: "run-id"))
    var runID: String?
    @Option(help: "With --slice: the deployments of models trained on this dataset's slice.") var dataset: String?
    @Option(help: ArgumentHelp("With --dataset: the slice's start.", valueName: "time")) var slice: String?
    @Option(help: "Output format: table or json.") var format: Format = .table

    func validate() throws {
        let byActivity = pipeline != nil || activity != nil, bySlice = dataset != nil || slice != nil
        guard [byActivity, runID != nil, bySlice].filter({ $0 }).count == 1 else {
            throw ValidationError("Give exactly one of --pipeline with --activity, --run, or --dataset with --slice.")
        }
        if byActivity && (pipeline == nil || activity == nil) { throw ValidationError("--pipeline and --activity go together.") }
        if bySlice && (dataset == nil || slice == nil) { throw ValidationError("--dataset and --slice go together.") }
    }

    func run() throws {
        let sliceStart = try slice.map { try OperatorInput.time($0, option: "slice") }
        // Definitions name the model dataset; lineage still works from the database alone.
        let factory = DefinitionLoader.load(directory: definitions.schedules).factory
        if let pipeline, let activity, let factory {
            let definition = try OperatorInput.pipeline(pipeline, in: factory, schedules: definitions.schedules)
            let update = try OperatorInput.activity(activity, in: definition)
            guard case .azureMLUpdateResource = update.kind else {
                throw CLIFailure.invalidInput("Activity '\(activity)' of pipeline '\(pipeline)' is not an AzureMLUpdateResource activity, "
                                              + "so it deploys nothing.")
            }
        }
        let store = try database.openReader(migrating: true)
        defer { store.close() }
        let entries: [LineageRepository.Entry]
        do {
            let repository = store.lineage
            if let pipeline, let activity {
                entries = try repository.deployments(pipeline: pipeline, activity: activity)
            } else if let runID {
                guard try repository.runExists(runID) else { throw CLIFailure.invalidInput("No run with id '\(runID)' in \(store.displayName(path: database.path)).") }
                entries = try repository.deployments(fromRun: runID)
            } else if let dataset, let sliceStart {
                guard try repository.sliceWasRead(dataset: dataset, start: sliceStart) else {
                    throw CLIFailure.invalidInput("No run read a slice of '\(dataset)' starting \(sliceStart.iso8601).")
                }
                entries = try repository.deployments(fromDataset: dataset, slice: sliceStart)
            } else {
                entries = []
            }
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        let elements = entries.map { Self.json($0, factory: factory) }
        switch format {
        case .json: print(JSONOutput.array(elements).render())
        case .table where elements.isEmpty:
            // A header over no rows reads like a failure to list; say what was looked for.
            if let pipeline, let activity {
                print("No deployments by \(activity) of \(pipeline) yet.")
            } else if let runID {
                print("Run \(runID) led to no deployment.")
            } else if let dataset, let sliceStart {
                print("No deployed model was trained on \(dataset)'s slice starting \(sliceStart.iso8601).")
            }
        case .table:
            print(TableOutput.render(
                header: ["WINDOW START", "DEPLOYED AT", "KIND", "SERVING", "DEPLOY RUN", "TRAINED BY", "MODEL"],
                rows: elements.map { e in
                    [e["windowStart"]?.text ?? "", e["deployedAt"]?.text ?? "", e["kind"]?.text ?? "",
                     e["serving"]?.text == "true" ? "yes" : "", e["deployRunId"]?.text ?? "",
                     e["trainedBy"]?["runId"]?.text ?? "-", e["model"]?["location"]?.text ?? ""]
                }))
        }
    }

    /// deployments.reason holds the deploying run's trigger; a retry continues the window's
    /// earlier trigger.
    static func kind(_ entry: LineageRepository.Entry) -> String {
        func map(_ trigger: String?) -> String? {
            switch trigger {
            case "schedule": "scheduled"
            case "backfill": "backfill"
            case "rerun": "rerun"
            case "rollback": "rollback"
            default: nil
            }
        }
        if entry.reason == "retry" { return map(entry.originalTrigger) ?? "scheduled" }
        return map(entry.reason) ?? "scheduled"
    }

    static func json(_ entry: LineageRepository.Entry, factory: Factory?) -> JSONOutput {
        var modelDataset: String?
        if let activity = factory?.pipelines[entry.pipeline]?.activity(named: entry.activity),
           case .azureMLUpdateResource(let update) = activity.kind {
            modelDataset = update.trainedModelDatasetName
        }
        let trainedBy: JSONOutput = entry.trainedBy.map { t in
            .object([("activity", .string(t.activity)), ("runId", .string(t.runID)), ("windowStart", .string(t.windowStart.iso8601)),
                     ("externalJobId", .orNull(t.externalJobID)), ("metrics", t.metricsJSON.flatMap(JSONOutput.parse) ?? .null)])
        } ?? .null
        let inputs = (entry.trainedBy?.inputs ?? []).map { input -> JSONOutput in
            .object([("dataset", .string(input.dataset)), ("sliceStart", .string(input.sliceStart.iso8601)),
                     ("fingerprint", input.fingerprintJSON.flatMap(JSONOutput.parse) ?? .null)])
        }
        return .object([
            ("pipeline", .string(entry.pipeline)), ("activity", .string(entry.activity)),
            ("windowStart", .string(entry.windowStart.iso8601)), ("deployRunId", .string(entry.deployRunID)),
            ("deployedAt", .string(entry.deployedAt.iso8601)), ("kind", .string(kind(entry))), ("serving", .bool(entry.serving)),
            ("endpoint", .string(OperatorInput.withoutQuery(entry.endpoint))),
            ("model", .object([("dataset", .orNull(modelDataset)), ("location", .string(OperatorInput.withoutQuery(entry.modelLocation)))])),
            ("trainedBy", trainedBy), ("inputs", .array(inputs)), ("definitionSha256", .string(entry.definitionSHA256)),
        ])
    }
}
