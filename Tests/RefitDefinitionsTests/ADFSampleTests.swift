import Foundation
import RefitCore
import RefitDefinitions
import Testing

/// Every Microsoft sample listed in docs/SAMPLES.md, as fixture files: `verbatim/` holds each block
/// exactly as printed; `wrapped/` holds the clearly labelled variants that put a fragment
/// (availability, policy, typeProperties, an activity) into a minimal entity; `support/` holds
/// the minimal entities a sample references but the docs do not print.
@Suite("ADF samples")
struct ADFSampleTests {
    static let v = "adf-samples/verbatim/", w = "adf-samples/wrapped/", s = "adf-samples/support/"
    static let ur1 = ["1.1-StorageLinkedService.json", "1.2-trainingData.json", "1.3-trainedModelBlob.json",
                      "1.4-trainingEndpoint.json", "1.5-updatableScoringEndpoint2.json", "1.6-placeholderBlob.json"].map { v + $0 }
    static let storage = v + "1.1-StorageLinkedService.json"
    static let be1 = [storage, v + "2.3-MyAzureMLLinkedService.json", v + "3.2-DecisionTreeInputBlob.json",
                      v + "3.3-DecisionTreeResultBlob.json"]

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var files: [String]
        var testDescription: String { name }
    }

    /// Folders that must load with no errors (warnings allowed).
    static let loading: [Case] = [
        Case(name: "§1.1–1.7 UR1 retraining scenario", files: ur1 + [v + "1.7-pipeline.json"]),
        Case(name: "§1.8 UR1 pipeline as printed in the JSON reference", files: ur1 + [v + "1.8-pipeline-jsr.json"]),
        Case(name: "§2.1 classic updatable endpoint", files: [v + "2.1-updatableScoringEndpoint2-classic.json"]),
        Case(name: "§2.2 ARM web service linked service", files: [v + "2.2-AzureMLLinkedService.json"]),
        Case(name: "§2.3 minimal AzureML linked service", files: [v + "2.3-MyAzureMLLinkedService.json"]),
        Case(name: "§3.1–3.3 scoring pipeline", files: be1 + [v + "3.1-PredictivePipeline.json"]),
        Case(name: "§3.4 globalParameters (wrapped)", files: be1 + [w + "3.4a-globalParameters.json"]),
        Case(name: "§3.4 globalParameters with a function (wrapped)", files: be1 + [w + "3.4b-globalParameters-function.json"]),
        Case(name: "§3.5 reader/writer pipeline (JSON reference version)",
             files: [storage, v + "3.5-jsr.json", s + "MLSqlInput.json", s + "MLSqlOutput.json",
                     s + "MLSqlReaderSqlWriterDecisionTreeModel.json"]),
        Case(name: "§3.6 webServiceInputs", files: [storage, v + "2.3-MyAzureMLLinkedService.json", v + "3.6-PredictivePipeline-inputs.json",
                                                   s + "inputDataset1.json", s + "inputDataset2.json", s + "outputDataset.json"]),
        Case(name: "§3.7 web service with no input (wrapped)", files: [storage, s + "mlEndpoint.json", s + "myBlob.json", w + "3.7-no-input.json"]),
        Case(name: "§3.8 web service with no input or output (wrapped)",
             files: [storage, s + "mlEndpoint.json", s + "placeholderOutputDataset.json", w + "3.8-no-input-output.json"]),
        Case(name: "§3.9 dependency-only datasets (wrapped)",
             files: [storage, s + "mlEndpoint.json", s + "upstreamData1.json", s + "upstreamData2.json", s + "downstreamData.json",
                     w + "3.9-dependency-only.json"]),
        Case(name: "§4 v2 update resource form in a v1 pipeline (wrapped, with an output)",
             files: [storage, v + "1.5-updatableScoringEndpoint2.json", v + "1.6-placeholderBlob.json",
                     w + "4a-amlUpdateResource-v2-with-output.json"]),
        Case(name: "§5.1 offset (wrapped)", files: [storage, w + "5.1-offset.json"]),
        Case(name: "§5.2 anchorDateTime (wrapped)", files: [storage, w + "5.2a-anchor.json"]),
        Case(name: "§5.2 anchorDateTime, 2015 string interval (wrapped)", files: [storage, w + "5.2b-anchor-ds0.json"]),
        Case(name: "§5.3 monthly offset and style (wrapped)", files: [storage, w + "5.3a-month-offset.json"]),
        Case(name: "§5.3 2015 AzureSqlTable dataset", files: [v + "5.3b-MyDataset-ds0.json"]),
        Case(name: "§5.4 minimumSizeMB (wrapped)", files: [storage, w + "5.4a-minimumSizeMB.json"]),
        Case(name: "§5.4 minimumRows (wrapped)", files: [storage, w + "5.4b-minimumRows.json"]),
        Case(name: "§5.5 external AzureSqlTable dataset", files: [v + "5.5-AzureSqlInput.json"]),
        Case(name: "§5.6 partitioned hourly output", files: [storage, v + "5.6-AzureBlobOutput.json"]),
        Case(name: "§5.7 weekly input with dependency expressions (wrapped)",
             files: [storage, v + "2.3-MyAzureMLLinkedService.json", s + "AzureBlobInputDaily.json", s + "AzureBlobInputWeekly.json",
                     s + "W57DailyOutput.json", w + "5.7-inputs.json"]),
        Case(name: "§6.2 tumbling window trigger", files: [v + "6.2-PerfTWTrigger.json"]),
        Case(name: "§6.3 self-dependency trigger", files: [v + "6.3-DemoSelfDependency.json"]),
        Case(name: "§6.4 schedule trigger", files: [v + "6.4a-ScheduleTrigger.json"]),
        Case(name: "§6.4 schedule trigger (ST0)", files: [v + "6.4b-ScheduleTrigger-st0.json"]),
    ]

    @Test("sample folder loads without errors", arguments: loading)
    func sampleLoads(_ sample: Case) throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: sample.files)
        let result = folder.load()
        #expect(!result.hasErrors, "\(result.report)")
        #expect(result.factory != nil)
        #expect(result.files.count == sample.files.count)
    }

    @Test("the UR1 scenario resolves to the documented factory")
    func ur1Factory() throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: Self.ur1 + [Self.v + "1.7-pipeline.json"])
        let result = folder.load()
        #expect(result.errors.isEmpty, "\(result.report)")
        let factory = try #require(result.factory)
        #expect(factory.linkedServices.keys.sorted() == ["StorageLinkedService", "trainingEndpoint", "updatableScoringEndpoint2"])
        #expect(factory.datasets.keys.sorted() == ["placeholderBlob", "trainedModelBlob", "trainingData"])
        let pipeline = try #require(factory.pipelines["pipeline"])
        #expect(pipeline.start == Instant(year: 2016, month: 2, day: 13))
        #expect(pipeline.end == Instant(year: 2016, month: 2, day: 14))
        #expect(pipeline.activities.map(\.name) == ["retraining", "AzureML Update Resource"])
        let retraining = try #require(pipeline.activity(named: "retraining"))
        #expect(retraining.inputs.map(\.name) == ["trainingData"])
        #expect(retraining.outputs == ["trainedModelBlob"])
        #expect(retraining.policy == ActivityPolicy(concurrency: 1, executionPriorityOrder: .newestFirst, retry: 1, timeout: .hours(2)))
        guard case .azureMLBatchExecution(let bes) = retraining.kind else { Issue.record("retraining is not BES"); return }
        #expect(bes.webServiceInput == "trainingData")
        #expect(bes.webServiceOutputs == [NamedValue("output1", "trainedModelBlob")])
        let update = try #require(pipeline.activity(named: "AzureML Update Resource"))
        guard case .azureMLUpdateResource(let ur) = update.kind else { Issue.record("not update resource"); return }
        #expect(ur.trainedModelName == "Training Exp for ADF ML [trained model]")
        #expect(ur.trainedModelDatasetName == "trainedModelBlob")
        #expect(factory.schedule(of: update) == Availability(frequency: .week, interval: 1))
        // §1.2 has externalData without "external": true — treated as external, with a warning.
        let training = try #require(factory.datasets["trainingData"])
        #expect(training.external)
        #expect(training.externalData == Dataset.ExternalDataPolicy(retryInterval: .minutes(1), retryTimeout: .minutes(10), maximumRetry: 3))
        #expect(result.warnings.contains { $0.position.file == folder.file("1.2-trainingData.json") && $0.message.contains("treats it as external") })
        // Literal secrets are warnings that never show the value.
        let literalWarnings = result.warnings.filter { $0.message.contains("literal secret") }
        #expect(literalWarnings.map(\.position.file).sorted() == [
            folder.file("1.1-StorageLinkedService.json"), folder.file("1.4-trainingEndpoint.json"),
            folder.file("1.5-updatableScoringEndpoint2.json"), folder.file("1.5-updatableScoringEndpoint2.json"),
        ])
        for secret in ["myKey", "sooooooooooh3WvG1hBfKS2BNNcfwSO7hhY6dY98noLfOdqQydYDIXyf2KoIaN3JpALu/AKtflHWMOCuicm/Q==",
                       "zWa0000000000Tp6FjtZOspK/WMA2tQ08c8U+gZRBlw=", "AccountKey=key"] {
            #expect(!result.report.contains(secret))
        }
    }

    @Test("§3.5 as printed: the missing and the trailing comma are both reported at their positions")
    func printedReaderWriterSample() throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: [Self.v + "3.5-as-printed.json"])
        let result = folder.load()
        let file = folder.file("3.5-as-printed.json")
        let syntax = result.errors.filter { $0.message.contains("comma") || $0.message.contains("','") }
        #expect(syntax.map { [$0.position.line, $0.position.column] } == [[27, 15], [39, 10]], "\(result.report)")
        #expect(syntax.allSatisfy { $0.position.file == file })
        #expect(syntax.first?.message.contains("missing ','") == true)
        #expect(syntax.last?.message.contains("trailing comma") == true)
    }

    @Test("§6.1 trigger schema is not JSON: the first placeholder is reported")
    func triggerSchema() throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: [Self.v + "6.1-tumbling-window-schema.json"])
        let result = folder.load()
        #expect(result.errors.count == 1, "\(result.report)")
        let error = try #require(result.errors.first)
        #expect(error.position == SourcePosition(file: folder.file("6.1-tumbling-window-schema.json"), line: 7, column: 26))
        #expect(error.message.contains("unexpected '<'"))
    }

    @Test("§5.3 (2015) \"frequency\": \"Daily\" is an error with a hint")
    func dailyFrequency() throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: [Self.storage, Self.w + "5.3c-daily-ds0.json"])
        let result = folder.load()
        #expect(result.errors.count == 1, "\(result.report)")
        let error = try #require(result.errors.first)
        #expect(error.position == SourcePosition(file: folder.file("5.3c-daily-ds0.json"), line: 9, column: 16))
        #expect(error.message.contains("did you mean Day?"))
    }

    @Test("§4 ADF v2 pipeline: one clear error, Refit needs output datasets")
    func v2Pipeline() throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: [Self.storage, Self.v + "1.4-trainingEndpoint.json", Self.v + "1.5-updatableScoringEndpoint2.json",
                                   Self.v + "4b-LookupPipelineDemo-v2.json"])
        let result = folder.load()
        #expect(result.errors.count == 1, "\(result.report)")
        let error = try #require(result.errors.first)
        #expect(error.position == SourcePosition(file: folder.file("4b-LookupPipelineDemo-v2.json"), line: 4, column: 23))
        #expect(error.message.contains("ADF v2 pipeline"))
    }

    @Test("unsupported dataset types and v2 triggers load with a warning")
    func unsupportedWarnings() throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: [Self.v + "5.5-AzureSqlInput.json", Self.v + "6.2-PerfTWTrigger.json"])
        let result = folder.load()
        #expect(!result.hasErrors)
        #expect(result.warnings.contains { $0.message.contains("Refit cannot probe AzureSqlTable datasets") })
        #expect(result.warnings.contains { $0.message.contains("TumblingWindowTrigger definitions are not used by Refit") })
        #expect(result.factory?.datasets.isEmpty == true)
    }

    @Test("wrapped fragments contain the printed fragment verbatim")
    func wrappedAreVerbatim() throws {
        let pairs = [("5.1-offset", "5.1-offset"), ("5.2a-anchor", "5.2a-anchor"), ("5.2b-anchor-ds0", "5.2b-anchor-ds0"),
                     ("5.3a-month-offset", "5.3a-month-offset"), ("5.3c-daily-ds0", "5.3c-daily-ds0"),
                     ("5.4a-minimumSizeMB", "5.4a-minimumSizeMB"), ("5.4b-minimumRows", "5.4b-minimumRows"),
                     ("3.4a-globalParameters", "3.4a-globalParameters"), ("3.4b-globalParameters-function", "3.4b-globalParameters-function"),
                     ("5.7-inputs", "5.7-inputs")]
        for (fragment, wrapped) in pairs {
            let f = try Fixtures.text(Self.v + fragment + ".fragment")
            let text = try Fixtures.text(Self.w + wrapped + ".json")
            #expect(text.contains(f), "\(wrapped) does not contain \(fragment) verbatim")
        }
        // §3.7–3.9 end with "}," (they were cut from an activities array): the variant drops that comma only.
        for name in ["3.7-no-input", "3.8-no-input-output", "3.9-dependency-only"] {
            var f = try Fixtures.text(Self.v + name + ".fragment")
            while f.hasSuffix("\n") { f.removeLast() }
            #expect(f.hasSuffix("},"))
            f.removeLast()
            #expect(try Fixtures.text(Self.w + name + ".json").contains(f))
        }
    }

    @Test("the UR1 scenario loads from YAML too")
    func ur1AsYAML() throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: Self.ur1)
        try folder.write("pipeline.yaml", try Fixtures.text("yaml/ur1-pipeline.yaml"))
        let result = folder.load()
        #expect(!result.hasErrors, "\(result.report)")
        let pipeline = try #require(result.factory?.pipelines["pipeline"])
        #expect(pipeline.activities.count == 2)
        #expect(pipeline.activities[1].name == "AzureML Update Resource")
        #expect(pipeline.activities[0].policy.timeout == .hours(2))
    }
}
