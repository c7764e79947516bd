import RefitCore

/// What validation may look at beyond the documents. Validation does no I/O, so the caller
/// passes the environment and a file-existence check for secret references.
public struct ValidationOptions: Sendable {
    /// When set, `{"env": NAME}` secrets whose variable is unset get a warning (not an error:
    /// only the worker needs the value).
    public var environment: [String: String]?
    /// When set, `{"file": PATH}` secrets whose file is missing get a warning.
    public var secretFileExists: (@Sendable (String) -> Bool)?

    public init(environment: [String: String]? = nil, secretFileExists: (@Sendable (String) -> Bool)? = nil) {
        self.environment = environment; self.secretFileExists = secretFileExists
    }
}

/// The outcome of validating a set of definition documents.
public struct DefinitionValidation: Sendable {
    /// The resolved definitions; nil when any diagnostic is an error.
    public var factory: Factory?
    /// Every problem found, sorted by file, line and column.
    public var diagnostics: [Diagnostic]
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Turns parsed definition documents into a `Factory`, reporting every problem at once.
public enum DefinitionValidator {
    /// Decodes each document (one entity per document) and checks the whole set: references,
    /// schedules, cycles, duplicate names, secrets.
    public static func validate(_ documents: [DefinitionDocument], options: ValidationOptions = ValidationOptions())
        -> DefinitionValidation {
        var decoder = DefinitionDecoder()
        var entities: [DecodedEntity] = []
        for document in documents {
            if let entity = decoder.decode(document) { entities.append(entity) }
        }
        var checker = CrossChecker(entities: entities, options: options)
        checker.run()
        checker.checkSecrets(decoder.secrets)
        checker.checkSettings(decoder.settings)
        var diagnostics = decoder.diagnostics + checker.diagnostics
        diagnostics.sort { ($0.position, $0.message) < ($1.position, $1.message) }
        let hasErrors = diagnostics.contains { $0.severity == .error }
        return DefinitionValidation(factory: hasErrors ? nil : checker.factory(), diagnostics: diagnostics)
    }
}

extension SourcePosition {
    /// `file:line` for "first defined at …" messages.
    var fileAndLine: String { "\(file):\(line)" }
}

/// The checks across files.
struct CrossChecker {
    enum Entry<T> {
        case ok(T)
        case unsupported(String)
        case broken
    }

    let options: ValidationOptions
    var diagnostics: [Diagnostic] = []
    var linkedServices: [String: Entry<DecodedLinkedService>] = [:]
    var datasets: [String: Entry<DecodedDataset>] = [:]
    var pipelines: [DecodedPipeline] = []
    var pipelineNames: Set<String> = []

    init(entities: [DecodedEntity], options: ValidationOptions) {
        self.options = options
        var firstSeen: [EntityKind: [String: SourcePosition]] = [:]
        func register(_ kind: EntityKind, _ name: String, _ position: SourcePosition, diagnostics: inout [Diagnostic]) -> Bool {
            if let first = firstSeen[kind]?[name] {
                diagnostics.append(.error(position, "duplicate \(kind.rawValue) name '\(name)'; first defined at \(first.fileAndLine)"))
                return false
            }
            firstSeen[kind, default: [:]][name] = position
            return true
        }
        var diagnostics: [Diagnostic] = []
        for entity in entities {
            switch entity {
            case .linkedService(let ls):
                if register(.linkedService, ls.service.name, ls.namePosition, diagnostics: &diagnostics) { linkedServices[ls.service.name] = .ok(ls) }
            case .dataset(let ds):
                if register(.dataset, ds.dataset.name, ds.namePosition, diagnostics: &diagnostics) { datasets[ds.dataset.name] = .ok(ds) }
            case .pipeline(let p):
                if register(.pipeline, p.pipeline.name, p.namePosition, diagnostics: &diagnostics) {
                    pipelines.append(p)
                    pipelineNames.insert(p.pipeline.name)
                }
            case .unsupported(let kind, let name, let position, let type):
                guard register(kind, name, position, diagnostics: &diagnostics) else { continue }
                switch kind {
                case .linkedService: linkedServices[name] = .unsupported(type)
                case .dataset: datasets[name] = .unsupported(type)
                case .pipeline, .trigger: break
                }
            case .broken(let kind, let name, let position):
                guard register(kind, name, position, diagnostics: &diagnostics) else { continue }
                switch kind {
                case .linkedService: linkedServices[name] = .broken
                case .dataset: datasets[name] = .broken
                case .pipeline: pipelineNames.insert(name)
                case .trigger: break
                }
            case .unknownKind(let name, _):
                if linkedServices[name] == nil { linkedServices[name] = .broken }
                if datasets[name] == nil { datasets[name] = .broken }
                pipelineNames.insert(name)
            }
        }
        self.diagnostics = diagnostics
    }

    mutating func error(_ at: SourcePosition, _ message: String) { diagnostics.append(.error(at, message)) }
    mutating func warning(_ at: SourcePosition, _ message: String) { diagnostics.append(.warning(at, message)) }

    // MARK: Lookups

    /// The dataset a reference names, or nil after reporting why it cannot be used.
    mutating func dataset(_ ref: Reference) -> DecodedDataset? {
        switch datasets[ref.name] {
        case .ok(let ds)?: return ds
        case .unsupported(let type)?:
            error(ref.position, "dataset '\(ref.name)' has type \(type), which Refit cannot probe")
        case .broken?: break
        case nil:
            error(ref.position, "dataset '\(ref.name)' is not defined" + Suggestion.hint(for: ref.name, among: datasets.keys.sorted()))
        }
        return nil
    }

    mutating func linkedService(_ ref: Reference) -> DecodedLinkedService? {
        switch linkedServices[ref.name] {
        case .ok(let ls)?: return ls
        case .unsupported(let type)?:
            error(ref.position, "linked service '\(ref.name)' has type \(type), which Refit cannot use")
        case .broken?: break
        case nil:
            error(ref.position, "linked service '\(ref.name)' is not defined" + Suggestion.hint(for: ref.name, among: linkedServices.keys.sorted()))
        }
        return nil
    }

    static func isStorage(_ kind: LinkedService.Kind) -> Bool {
        switch kind {
        case .azureStorage, .awsAccessKey, .fileServer: return true
        case .azureML: return false
        }
    }

    // MARK: Checks

    mutating func run() {
        checkDatasets()
        var producers: [String: (pipeline: String, activity: String, position: SourcePosition)] = [:]
        for p in pipelines {
            for a in p.activities { checkActivity(a, pipeline: p.pipeline.name, producers: &producers) }
        }
        checkUnproducedInputs(producers: producers)
        checkCycles()
    }

    mutating func checkDatasets() {
        for case .ok(let ds) in datasets.values.sorted(by: { Self.position($0) < Self.position($1) }) {
            guard let ls = linkedService(ds.linkedService) else { continue }
            let fits: Bool
            let wanted: String
            switch (ds.dataset.kind, ls.service.kind) {
            case (.azureBlob, .azureStorage): fits = true; wanted = ""
            case (.amazonS3, .awsAccessKey): fits = true; wanted = ""
            case (.fileShare, .fileServer): fits = true; wanted = ""
            case (.azureBlob, _): fits = false; wanted = "an AzureStorage or AzureStorageSas"
            case (.amazonS3, _): fits = false; wanted = "an AwsAccessKey"
            case (.fileShare, _): fits = false; wanted = "an OnPremisesFileServer"
            }
            if !fits {
                error(ds.linkedService.position, "a dataset of type \(ds.dataset.kind.rawValue) needs \(wanted) linked service; '\(ls.service.name)' is \(ls.service.typeName)")
            }
        }
    }

    static func position(_ entry: Entry<DecodedDataset>) -> SourcePosition {
        if case .ok(let ds) = entry { return ds.namePosition }
        return SourcePosition(file: "", line: 0, column: 0)
    }

    mutating func checkActivity(_ a: DecodedActivity, pipeline: String,
                                producers: inout [String: (pipeline: String, activity: String, position: SourcePosition)]) {
        let owner = "activity '\(a.activity.name)'"
        for ref in a.inputs { _ = dataset(ref) }
        var outputDatasets: [(Reference, DecodedDataset)] = []
        for ref in a.outputs {
            guard let ds = dataset(ref) else { continue }
            outputDatasets.append((ref, ds))
            if ds.dataset.external {
                error(ref.position, "dataset '\(ref.name)' is external, so no activity can produce it; drop \"external\" or use another output")
            }
            if let first = producers[ref.name] {
                error(ref.position, "dataset '\(ref.name)' is already the output of activity '\(first.activity)' in pipeline '\(first.pipeline)' (\(first.position.fileAndLine)); a dataset has one producer")
            } else {
                producers[ref.name] = (pipeline, a.activity.name, ref.position)
            }
        }
        // All outputs share one schedule; the scheduler, when given, must match it (docs/SEMANTICS.md §1).
        if let (firstRef, first) = outputDatasets.first {
            for (ref, ds) in outputDatasets.dropFirst() where !Self.sameSchedule(ds.availability.availability, first.availability.availability) {
                error(ref.position, "output '\(ref.name)' has availability \(Self.describe(ds.availability.availability)) but output '\(firstRef.name)' has \(Self.describe(first.availability.availability)); an activity's outputs share one schedule")
            }
            if let scheduler = a.scheduler {
                checkScheduler(scheduler, against: first, owner: owner)
            }
        }
        let inputNames = Set(a.inputs.map(\.name)), outputNames = Set(a.outputs.map(\.name))
        for ref in a.webServiceInputs {
            if !inputNames.contains(ref.name) {
                error(ref.position, "web service input dataset '\(ref.name)' must also be listed in the inputs of \(owner)")
            }
            if let ds = datasetIfOK(ref.name) { requireSingleFile(ds, ref: ref, role: "a web service input") }
        }
        for ref in a.webServiceOutputs {
            if !outputNames.contains(ref.name) {
                error(ref.position, "web service output dataset '\(ref.name)' must also be listed in the outputs of \(owner)")
            }
            if let ds = datasetIfOK(ref.name) { requireSingleFile(ds, ref: ref, role: "a web service output") }
        }
        if let ref = a.trainedModelDataset {
            if !inputNames.contains(ref.name) {
                error(ref.position, "trainedModelDatasetName '\(ref.name)' must also be listed in the inputs of \(owner)")
            }
        }
        if let ref = a.trainedModelLinkedService, let ls = linkedService(ref), !Self.isStorage(ls.service.kind) {
            error(ref.position, "trainedModelLinkedServiceName must name a storage linked service (AzureStorage, AwsAccessKey or OnPremisesFileServer); '\(ls.service.name)' is \(ls.service.typeName)")
        }
        if let ref = a.stagingLinkedService, let ls = linkedService(ref) {
            if case .azureStorage = ls.service.kind {} else {
                error(ref.position, "stagingLinkedService must name an AzureStorage linked service; '\(ls.service.name)' is \(ls.service.typeName)")
            }
        }
        let isAzureML = a.activity.typeName == "AzureMLBatchExecution" || a.activity.typeName == "AzureMLUpdateResource"
        if isAzureML {
            if let ref = a.linkedService {
                if let ls = linkedService(ref) {
                    if case .azureML(let ml) = ls.service.kind {
                        if a.activity.typeName == "AzureMLUpdateResource" && ml.updateResourceEndpoint == nil {
                            error(ref.position, "AzureMLUpdateResource needs a linked service with updateResourceEndpoint; '\(ls.service.name)' has none")
                        }
                    } else {
                        error(ref.position, "\(a.activity.typeName) needs an AzureML linked service; '\(ls.service.name)' is \(ls.service.typeName)")
                    }
                }
            } else {
                error(a.namePosition, "\(owner) (\(a.activity.typeName)) has no linkedServiceName; it needs an AzureML linked service")
            }
        } else if let ref = a.linkedService {
            _ = linkedService(ref)
        }
    }

    func datasetIfOK(_ name: String) -> DecodedDataset? {
        if case .ok(let ds)? = datasets[name] { return ds }
        return nil
    }

    /// Azure ML batch execution reads and writes single files: a blob or file-share dataset used
    /// as a web service input/output needs a fileName (ADF's BE1), an S3 one a key or fileName.
    mutating func requireSingleFile(_ ds: DecodedDataset, ref: Reference, role: String) {
        let location = ds.dataset.location
        switch ds.dataset.kind {
        case .azureBlob, .fileShare:
            if location.fileName == nil {
                error(ref.position, "dataset '\(ref.name)' is \(role), so it needs a fileName (Azure ML batch execution passes single files)")
            }
        case .amazonS3:
            if location.fileName == nil && location.key == nil {
                error(ref.position, "dataset '\(ref.name)' is \(role), so it needs a key or fileName (Azure ML batch execution passes single files)")
            }
        }
    }

    static func sameSchedule(_ a: Availability, _ b: Availability) -> Bool {
        a.frequency == b.frequency && a.interval == b.interval && a.style == b.style
            && (a.anchorDateTime ?? .dotNetMin) == (b.anchorDateTime ?? .dotNetMin)
            && (a.offset ?? .zero) == (b.offset ?? .zero)
    }

    static func describe(_ a: Availability) -> String {
        var text = "\(a.frequency.rawValue)/\(a.interval)"
        if a.style != .endOfInterval { text += " \(a.style.rawValue)" }
        if let anchor = a.anchorDateTime { text += " anchored at \(anchor)" }
        if let offset = a.offset, offset != .zero { text += " offset \(offset)" }
        return text
    }

    mutating func checkScheduler(_ scheduler: DecodedAvailability, against output: DecodedDataset, owner: String) {
        let s = scheduler.availability, o = output.availability.availability
        let name = output.dataset.name
        let suffix = "; an activity's scheduler must match its output dataset's availability"
        if s.frequency != o.frequency {
            error(scheduler.frequencyPosition, "scheduler.frequency \(s.frequency.rawValue) differs from output dataset '\(name)' (\(o.frequency.rawValue))\(suffix)")
        } else if s.interval != o.interval {
            error(scheduler.intervalPosition, "scheduler.interval \(s.interval) differs from output dataset '\(name)' (\(o.interval))\(suffix)")
        }
        if s.style != o.style {
            error(scheduler.stylePosition ?? scheduler.position, "scheduler.style \(s.style.rawValue) differs from output dataset '\(name)' (\(o.style.rawValue))\(suffix)")
        }
        if (s.anchorDateTime ?? .dotNetMin) != (o.anchorDateTime ?? .dotNetMin) {
            error(scheduler.anchorPosition ?? scheduler.position, "scheduler.anchorDateTime \(s.anchorDateTime.map { "\($0)" } ?? "(default)") differs from output dataset '\(name)' (\(o.anchorDateTime.map { "\($0)" } ?? "default"))\(suffix)")
        }
        if (s.offset ?? .zero) != (o.offset ?? .zero) {
            error(scheduler.offsetPosition ?? scheduler.position, "scheduler.offset \(s.offset ?? .zero) differs from output dataset '\(name)' (\(o.offset ?? .zero))\(suffix)")
        }
    }

    /// ADF's FAQ calls this "a common mistake": an input nobody produces and that is not
    /// external never becomes Ready.
    mutating func checkUnproducedInputs(producers: [String: (pipeline: String, activity: String, position: SourcePosition)]) {
        var warned: Set<String> = []
        for p in pipelines {
            for a in p.activities {
                for ref in a.inputs where producers[ref.name] == nil && !warned.contains(ref.name) {
                    guard let ds = datasetIfOK(ref.name), !ds.dataset.external else { continue }
                    warned.insert(ref.name)
                    warning(ref.position, "dataset '\(ref.name)' is not external and no activity produces it, so its slices never become ready; add \"external\": true if its data comes from outside")
                }
            }
        }
    }

    /// Activity A → B when an output of A is an input of B (across pipelines). Each cycle is
    /// reported once, at the activity written first.
    mutating func checkCycles() {
        struct Vertex { var pipeline: String; var activity: DecodedActivity }
        var vertices: [Vertex] = []
        for p in pipelines { for a in p.activities { vertices.append(Vertex(pipeline: p.pipeline.name, activity: a)) } }
        var producersOf: [String: [Int]] = [:]
        for (i, v) in vertices.enumerated() { for o in v.activity.outputs { producersOf[o.name, default: []].append(i) } }
        var edges = [[Int]](repeating: [], count: vertices.count)
        for (j, v) in vertices.enumerated() {
            for input in v.activity.inputs { for i in producersOf[input.name] ?? [] where !edges[i].contains(j) { edges[i].append(j) } }
        }
        for component in Self.stronglyConnectedComponents(edges) {
            guard component.count > 1 || edges[component[0]].contains(component[0]) else { continue }
            let members = Set(component)
            guard let start = component.min(by: { vertices[$0].activity.namePosition < vertices[$1].activity.namePosition }) else { continue }
            let path = Self.cyclePath(from: start, within: members, edges: edges)
            let names = (path + [start]).map { "'\(vertices[$0].pipeline)/\(vertices[$0].activity.activity.name)'" }
            error(vertices[start].activity.namePosition, "dependency cycle: \(names.joined(separator: " → ")) (each activity's output is an input of the next)")
        }
    }

    /// Tarjan's algorithm, iterative so deep graphs cannot overflow the stack.
    static func stronglyConnectedComponents(_ edges: [[Int]]) -> [[Int]] {
        let n = edges.count
        var index = [Int](repeating: -1, count: n), low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int] = [], result: [[Int]] = [], counter = 0
        for root in 0..<n where index[root] < 0 {
            var work: [(Int, Int)] = [(root, 0)]
            while let top = work.last {
                let (v, edgeIndex) = top
                if edgeIndex == 0 && index[v] < 0 {
                    index[v] = counter; low[v] = counter; counter += 1
                    stack.append(v); onStack[v] = true
                }
                if edgeIndex < edges[v].count {
                    work[work.count - 1].1 += 1
                    let w = edges[v][edgeIndex]
                    if index[w] < 0 {
                        work.append((w, 0))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last { low[parent.0] = min(low[parent.0], low[v]) }
                if low[v] == index[v] {
                    var component: [Int] = []
                    while let w = stack.popLast() {
                        onStack[w] = false
                        component.append(w)
                        if w == v { break }
                    }
                    result.append(component)
                }
            }
        }
        return result
    }

    /// A shortest path start → … → (back to start) inside one component, without the final start.
    static func cyclePath(from start: Int, within members: Set<Int>, edges: [[Int]]) -> [Int] {
        var previous: [Int: Int] = [:]
        var queue = [start], head = 0
        var last: Int?
        search: while head < queue.count {
            let v = queue[head]; head += 1
            for w in edges[v].sorted() where members.contains(w) {
                if w == start { last = v; break search }
                if previous[w] == nil { previous[w] = v; queue.append(w) }
            }
        }
        guard var v = last else { return [start] }
        var path = [v]
        while v != start, let p = previous[v] { path.append(p); v = p }
        return path.reversed()
    }

    // MARK: Secrets

    mutating func checkSecrets(_ uses: [SecretUse]) {
        for use in uses {
            switch use.secret.source {
            case .literal: break
            case .environment(let name):
                if let environment = options.environment, environment[name] == nil {
                    warning(use.position, "environment variable \(name) (\(use.label)) is not set; the worker will fail when it needs this value")
                }
            case .file(let path):
                if let exists = options.secretFileExists, !exists(path) {
                    warning(use.position, "secret file \(path) (\(use.label)) does not exist; the worker will fail when it needs this secret")
                }
            }
        }
    }

    mutating func checkSettings(_ uses: [SettingUse]) {
        guard let environment = options.environment else { return }
        for use in uses {
            if let value = environment[use.name], !value.isEmpty {
                if !DefinitionDecoder.isHTTPURL(value) {
                    warning(use.position, "environment variable \(use.name) (\(use.label)) is not an http:// or https:// URL")
                }
            } else {
                warning(use.position, "environment variable \(use.name) (\(use.label)) is not set; the worker will fail when it needs this value")
            }
        }
    }

    // MARK: Result

    func factory() -> Factory {
        var factory = Factory()
        for case .ok(let ls) in linkedServices.values { factory.linkedServices[ls.service.name] = ls.service }
        for case .ok(let ds) in datasets.values { factory.datasets[ds.dataset.name] = ds.dataset }
        for p in pipelines { factory.pipelines[p.pipeline.name] = p.pipeline }
        return factory
    }
}
