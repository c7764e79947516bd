/// The run history of one database (optionally one pipeline and one period), read once as plain
/// values: what `refit report` renders. The store fills it (only RefitStore speaks SQL); the
/// report turns it into HTML without further I/O, so rendering is a pure function of it.
public struct HistorySnapshot: Hashable, Sendable {
    /// One activity window and its current state.
    public struct Window: Hashable, Sendable {
        public var id: Int64
        public var pipeline: String
        public var activity: String
        public var window: Slice
        /// The stored state name (Waiting, InProgress, Ready, Failed, Skipped, None).
        public var state: String
        public var substate: String?
        public var attempts: Int
        public var updatedAt: Instant?

        public init(id: Int64, pipeline: String, activity: String, window: Slice, state: String, substate: String?, attempts: Int,
                    updatedAt: Instant?) {
            self.id = id; self.pipeline = pipeline; self.activity = activity; self.window = window; self.state = state
            self.substate = substate; self.attempts = attempts; self.updatedAt = updatedAt
        }
    }

    /// One dataset slice from the `slices` table (external data, probed in storage).
    public struct DataSlice: Hashable, Sendable {
        public var id: Int64
        public var dataset: String
        public var slice: Slice
        public var state: String
        public var substate: String?
        public var checkCount: Int
        /// Why it is not Ready (absent, probe error, validation failure).
        public var message: String?
        /// When the row last changed: for a Ready slice, when a check found its data.
        public var updatedAt: Instant?
        /// The newest modification time among its files, when the storage reported one.
        public var landedAt: Instant?

        public init(id: Int64, dataset: String, slice: Slice, state: String, substate: String?, checkCount: Int, message: String?,
                    updatedAt: Instant?, landedAt: Instant?) {
            self.id = id; self.dataset = dataset; self.slice = slice; self.state = state; self.substate = substate
            self.checkCount = checkCount; self.message = message; self.updatedAt = updatedAt; self.landedAt = landedAt
        }
    }

    /// One attempt (a `runs` row).
    public struct Run: Hashable, Sendable {
        public var runID: String
        public var windowID: Int64
        public var pipeline: String
        public var activity: String
        public var windowStart: Instant
        public var attempt: Int
        public var trigger: String
        public var status: String
        public var substatus: String?
        public var startedAt: Instant
        public var endedAt: Instant?
        public var errorClass: String?
        public var errorMessage: String?
        public var externalJobID: String?

        public init(runID: String, windowID: Int64, pipeline: String, activity: String, windowStart: Instant, attempt: Int, trigger: String,
                    status: String, substatus: String?, startedAt: Instant, endedAt: Instant?, errorClass: String?, errorMessage: String?,
                    externalJobID: String?) {
            self.runID = runID; self.windowID = windowID; self.pipeline = pipeline; self.activity = activity
            self.windowStart = windowStart; self.attempt = attempt; self.trigger = trigger; self.status = status
            self.substatus = substatus; self.startedAt = startedAt; self.endedAt = endedAt; self.errorClass = errorClass
            self.errorMessage = errorMessage; self.externalJobID = externalJobID
        }
    }

    /// One deployment: a model put on an endpoint by an update run (or a rollback).
    public struct Deployment: Hashable, Sendable {
        public var id: Int64
        public var endpoint: String
        public var modelLocation: String
        /// The window the model was trained on.
        public var modelWindowStart: Instant
        /// The update activity whose run deployed it.
        public var pipeline: String
        public var activity: String
        public var runID: String
        public var deployedAt: Instant
        public var replacedDeploymentID: Int64?
        /// schedule, backfill, rerun, retry, rollback, force, or an operator's sentence.
        public var reason: String
        public var forced: Bool
        /// When the newest external input slice behind this model was found Ready (walked through
        /// the runs' recorded inputs); nil when none is recorded.
        public var dataReadyAt: Instant?

        public init(id: Int64, endpoint: String, modelLocation: String, modelWindowStart: Instant, pipeline: String, activity: String,
                    runID: String, deployedAt: Instant, replacedDeploymentID: Int64?, reason: String, forced: Bool, dataReadyAt: Instant?) {
            self.id = id; self.endpoint = endpoint; self.modelLocation = modelLocation; self.modelWindowStart = modelWindowStart
            self.pipeline = pipeline; self.activity = activity; self.runID = runID; self.deployedAt = deployedAt
            self.replacedDeploymentID = replacedDeploymentID; self.reason = reason; self.forced = forced; self.dataReadyAt = dataReadyAt
        }

        /// Whether an operator put an older model back (`refit rollback`).
        public var isRollback: Bool { reason == "rollback" }
    }

    /// The numeric metrics of a successful run's evaluation output (`outputs.evaluation`).
    public struct Evaluation: Hashable, Sendable {
        public var pipeline: String
        public var activity: String
        public var windowStart: Instant
        public var runID: String
        public var evaluatedAt: Instant
        /// Metric name and value, sorted by name.
        public var metrics: [Metric]

        public struct Metric: Hashable, Sendable {
            public var name: String
            public var value: Double
            public init(name: String, value: Double) { self.name = name; self.value = value }
        }

        public init(pipeline: String, activity: String, windowStart: Instant, runID: String, evaluatedAt: Instant, metrics: [Metric]) {
            self.pipeline = pipeline; self.activity = activity; self.windowStart = windowStart; self.runID = runID
            self.evaluatedAt = evaluatedAt; self.metrics = metrics
        }
    }

    public var windows: [Window]
    public var slices: [DataSlice]
    public var runs: [Run]
    public var deployments: [Deployment]
    /// At most one per window: the newest successful run's evaluation.
    public var evaluations: [Evaluation]

    public init(windows: [Window] = [], slices: [DataSlice] = [], runs: [Run] = [], deployments: [Deployment] = [],
                evaluations: [Evaluation] = []) {
        self.windows = windows; self.slices = slices; self.runs = runs; self.deployments = deployments; self.evaluations = evaluations
    }

    /// Nothing recorded: no window and no slice.
    public var isEmpty: Bool { windows.isEmpty && slices.isEmpty }
}
