import RefitCore

/// The rows a test may read back from the in-memory store: what the SQLite store's history,
/// lineage and deployment tables would hold after the same calls.
extension InMemorySchedulingStore {
    /// What the store refuses, where the SQL schema would reject the write with a constraint.
    public enum Failure: Error, Hashable, Sendable {
        /// A claim reused the id of an earlier attempt.
        case duplicateRunID(String)
        /// An endpoint lock named a run that was never claimed.
        case unknownRun(String)
    }

    /// One input slice of a window and whether it is Ready (`window_inputs`).
    public struct WindowInput: Hashable, Sendable {
        public var dataset: String
        public var slice: Slice
        public var ready: Bool
        public init(dataset: String, slice: Slice, ready: Bool) {
            self.dataset = dataset; self.slice = slice; self.ready = ready
        }
    }

    /// One attempt (`runs`).
    public struct Run: Hashable, Sendable {
        public var runID: String
        public var windowID: Int64
        public var attempt: Int
        public var trigger: RunTrigger
        public var status: RunStatus
        public var substatus: WindowSubstate?
        public var workerID: String
        public var startedAt: Instant
        public var endedAt: Instant?
        public var errorClass: RunErrorClass?
        public var errorMessage: String?
        public var externalJobID: String?
        public var resultJSON: String?
        public var definitionSHA256: String

        init(runID: String, windowID: Int64, attempt: Int, trigger: RunTrigger, status: RunStatus, workerID: String,
             startedAt: Instant, definitionSHA256: String) {
            self.runID = runID; self.windowID = windowID; self.attempt = attempt; self.trigger = trigger
            self.status = status; self.workerID = workerID; self.startedAt = startedAt
            self.definitionSHA256 = definitionSHA256
        }
    }

    /// What an attempt read, copied when it was claimed (`run_inputs`): the data fingerprint
    /// of an external slice, or the run that produced an internal one.
    public struct RunInput: Hashable, Sendable {
        public var dataset: String
        public var slice: Slice
        public var fingerprint: DataFingerprint?
        public var producerRunID: String?
        public init(dataset: String, slice: Slice, fingerprint: DataFingerprint?, producerRunID: String?) {
            self.dataset = dataset; self.slice = slice; self.fingerprint = fingerprint; self.producerRunID = producerRunID
        }
    }

    /// One output of a successful run (`outputs`).
    public struct Output: Hashable, Sendable {
        public var id: Int64
        public var runID: String
        public var name: String
        public var location: String
        public var evaluationJSON: String?
        public var createdAt: Instant
    }

    /// One recorded deployment (`deployments`), append-only.
    public struct Deployment: Hashable, Sendable {
        public var id: Int64
        public var endpoint: String
        public var modelLocation: String
        public var modelWindow: Slice
        public var outputID: Int64?
        public var runID: String
        public var deployedAt: Instant
        public var replacedDeploymentID: Int64?
        public var reason: String
        public var forced: Bool
    }

    /// The run holding an endpoint's deployment lock (held while that run is InProgress).
    public struct EndpointLock: Hashable, Sendable {
        public var endpoint: String
        public var runID: String
        public var acquiredAt: Instant
    }

    /// One audit event: what kind of change, when, and what it names.
    public struct Event: Hashable, Sendable {
        public var kind: String
        public var at: Instant
        public var pipeline: String?
        public var activity: String?
        public var windowStart: Instant?
        public var runID: String?
    }

    // MARK: Reading back

    /// Every attempt, in claim order.
    public var runs: [Run] { locked { $0.runs } }

    public func run(id: String) -> Run? { locked { $0.run(id) } }

    /// The attempts of one window, in claim order.
    public func runs(windowID: Int64) -> [Run] { locked { $0.runs.filter { $0.windowID == windowID } } }

    public func runInputs(runID: String) -> [RunInput] { locked { $0.runInputs[runID] ?? [] } }

    public var outputs: [Output] { locked { $0.outputs } }

    public var deployments: [Deployment] { locked { $0.deployments } }

    public func endpointLock(_ endpoint: String) -> EndpointLock? { locked { $0.endpointLocks[endpoint] } }

    /// The audit trail, oldest first.
    public var events: [Event] { locked { $0.events } }

    /// Windows of a pipeline, oldest first (ties by activity), as `refit slices` lists them.
    public func windows(pipeline: String) -> [WindowRecord] {
        locked { s in
            s.windows.values.filter { $0.key.pipeline == pipeline }
                .sorted { ($0.window.start, $0.key.activity) < ($1.window.start, $1.key.activity) }
        }
    }

    /// Every external slice, oldest first (ties by dataset).
    public var slices: [SliceRecord] {
        locked { s in s.slices.values.sorted { ($0.slice.start, $0.dataset) < ($1.slice.start, $1.dataset) } }
    }

    /// The recorded input slices of a window, by dataset and start; empty while unresolved.
    public func inputs(windowID: Int64) -> [WindowInput] {
        locked { s in
            (s.inputs[windowID] ?? [:]).values.sorted { ($0.dataset, $0.slice.start) < ($1.dataset, $1.slice.start) }
        }
    }

    /// The datasets an activity produces, as last materialized.
    public func producedDatasets(of key: ActivityKey) -> Set<String> { locked { $0.activityOutputs[key] ?? [] } }
}
