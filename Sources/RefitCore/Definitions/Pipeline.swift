/// A pipeline: activities and the active period in which their windows are produced.
public struct Pipeline: Hashable, Sendable {
    public var name: String
    public var activities: [Activity]
    public var start: Instant?
    /// As written; see `activePeriod` for ADF's defaults.
    public var end: Instant?
    public var isPaused: Bool
    public var position: SourcePosition
    /// `scheduled` (default) or `onetime`; a one-time pipeline produces no scheduled windows.
    public var pipelineMode: PipelineMode

    /// ADF v1 `pipelineMode`.
    public enum PipelineMode: String, Hashable, Sendable, CaseIterable {
        case scheduled = "Scheduled", onetime = "OneTime"
    }

    public init(name: String, activities: [Activity], start: Instant?, end: Instant?, isPaused: Bool = false,
                position: SourcePosition, pipelineMode: PipelineMode = .scheduled) {
        self.name = name; self.activities = activities; self.start = start; self.end = end
        self.isPaused = isPaused; self.position = position; self.pipelineMode = pipelineMode
    }

    /// The active period (docs/SEMANTICS.md D3): an omitted `end` is `start + 48h`; `9999-09-09`
    /// means no end (nil upper bound). nil when the pipeline has no `start` or is one-time.
    public var activePeriod: (start: Instant, end: Instant?)? {
        guard pipelineMode == .scheduled, let start else { return nil }
        guard let end else { return (start, start + .hours(48)) }
        return (start, end >= Instant.adfNoEnd ? nil : end)
    }

    public func activity(named name: String) -> Activity? { activities.first { $0.name == name } }
}

/// An activity of a pipeline. Its schedule is its output dataset's availability (ADF: "output
/// dataset drives the schedule"); `scheduler`, when given, must match it.
public struct Activity: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case azureMLBatchExecution(BatchExecution)
        case azureMLUpdateResource(UpdateResource)
        /// Extension: a local command.
        case command(Command)
    }

    /// `AzureMLBatchExecution` typeProperties.
    public struct BatchExecution: Hashable, Sendable {
        /// Single-input form; mapped to the web service input `input1`.
        public var webServiceInput: String?
        /// web service input name → dataset name, in file order.
        public var webServiceInputs: [NamedValue]
        /// web service output name → dataset name, in file order.
        public var webServiceOutputs: [NamedValue]
        /// Parameter name → value (may contain `$$` functions), in file order.
        public var globalParameters: [NamedValue]
        /// Extension: the AzureStorage linked service a FileShare input is staged into.
        public var stagingLinkedService: String?
        public init(webServiceInput: String? = nil, webServiceInputs: [NamedValue] = [], webServiceOutputs: [NamedValue] = [],
                    globalParameters: [NamedValue] = [], stagingLinkedService: String? = nil) {
            self.webServiceInput = webServiceInput; self.webServiceInputs = webServiceInputs
            self.webServiceOutputs = webServiceOutputs; self.globalParameters = globalParameters
            self.stagingLinkedService = stagingLinkedService
        }
    }

    /// `AzureMLUpdateResource` typeProperties, v1 (dataset) or v2 (linked service + path) form (D12).
    public struct UpdateResource: Hashable, Sendable {
        public var trainedModelName: String
        public var trainedModelDatasetName: String?
        public var trainedModelLinkedServiceName: String?
        public var trainedModelFilePath: String?
        public init(trainedModelName: String, trainedModelDatasetName: String? = nil,
                    trainedModelLinkedServiceName: String? = nil, trainedModelFilePath: String? = nil) {
            self.trainedModelName = trainedModelName; self.trainedModelDatasetName = trainedModelDatasetName
            self.trainedModelLinkedServiceName = trainedModelLinkedServiceName; self.trainedModelFilePath = trainedModelFilePath
        }
    }

    /// `Command` typeProperties (extension).
    public struct Command: Hashable, Sendable {
        /// argv; the first element is the program (looked up on PATH).
        public var arguments: [String]
        public var workingDirectory: String?
        public var environment: [NamedValue]
        public init(arguments: [String], workingDirectory: String? = nil, environment: [NamedValue] = []) {
            self.arguments = arguments; self.workingDirectory = workingDirectory; self.environment = environment
        }
    }

    /// An `inputs[]` entry; `startTime`/`endTime` are dependency expressions such as
    /// `Date.AddDays(SliceStart, -1)` (docs/SEMANTICS.md §2.5).
    public struct Input: Hashable, Sendable {
        public var name: String
        public var startTime: String?
        public var endTime: String?
        public var position: SourcePosition
        public init(name: String, startTime: String? = nil, endTime: String? = nil, position: SourcePosition) {
            self.name = name; self.startTime = startTime; self.endTime = endTime; self.position = position
        }
    }

    public var name: String
    public var typeName: String
    public var kind: Kind
    public var inputs: [Input]
    public var outputs: [String]
    public var linkedServiceName: String?
    public var policy: ActivityPolicy
    public var scheduler: Availability?
    public var position: SourcePosition

    public init(name: String, typeName: String, kind: Kind, inputs: [Input], outputs: [String], linkedServiceName: String?,
                policy: ActivityPolicy = ActivityPolicy(), scheduler: Availability? = nil, position: SourcePosition) {
        self.name = name; self.typeName = typeName; self.kind = kind; self.inputs = inputs; self.outputs = outputs
        self.linkedServiceName = linkedServiceName; self.policy = policy; self.scheduler = scheduler; self.position = position
    }
}

/// An ordered key/value pair; ADF maps keep their file order in Refit.
public struct NamedValue: Hashable, Sendable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }
}

/// Activity `policy` with ADF's defaults (docs/SEMANTICS.md §4).
public struct ActivityPolicy: Hashable, Sendable {
    public enum PriorityOrder: String, Hashable, Sendable, CaseIterable { case oldestFirst = "OldestFirst", newestFirst = "NewestFirst" }
    public var concurrency: Int = 1
    public var executionPriorityOrder: PriorityOrder = .oldestFirst
    public var retry: Int = 0
    /// Zero means no timeout.
    public var timeout: TimeSpan = .zero
    public var delay: TimeSpan = .zero
    public var longRetry: Int = 1
    public var longRetryInterval: TimeSpan = .zero
    public init(concurrency: Int = 1, executionPriorityOrder: PriorityOrder = .oldestFirst, retry: Int = 0,
                timeout: TimeSpan = .zero, delay: TimeSpan = .zero, longRetry: Int = 1, longRetryInterval: TimeSpan = .zero) {
        self.concurrency = concurrency; self.executionPriorityOrder = executionPriorityOrder; self.retry = retry
        self.timeout = timeout; self.delay = delay; self.longRetry = longRetry; self.longRetryInterval = longRetryInterval
    }
}
