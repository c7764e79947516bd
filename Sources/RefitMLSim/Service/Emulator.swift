import Foundation

/// What a handler tells the operations log about the call it served.
struct OperationFacts: Sendable {
    var jobId: String?
    var endpoint: String?
    var resourceLocation: String?
}

/// The emulated workspace: BES jobs, endpoint management and RRS scoring over one persisted state.
///
/// An actor, so every state transition is serialized; blob I/O and training happen between
/// transitions and re-check the state afterwards.
actor Emulator {
    private(set) var state: WorkspaceState
    private var rng: SeededGenerator
    private let stateFile: URL?
    private let settings: MLSimConfiguration
    let faults: FaultInjector
    private(set) var baseURL = ""
    private var blobStore: (any BlobAccess)?

    /// Largest number of endpoints per web service, default included (free-tier limit).
    static let maxEndpoints = 3
    /// Lifetime of read SAS tokens handed out in job results and endpoint resources.
    static let sasValidity: Duration = .seconds(24 * 3600)

    init(configuration: MLSimConfiguration, faults: FaultInjector) throws {
        self.settings = configuration
        self.faults = faults
        var rng = SeededGenerator(seed: configuration.seed ?? UInt64.random(in: 0...UInt64.max))
        if let dir = configuration.stateDirectory {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let file = dir.appendingPathComponent("state.json")
            self.stateFile = file
            if FileManager.default.fileExists(atPath: file.path) {
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .iso8601
                do {
                    self.state = try decoder.decode(WorkspaceState.self, from: Data(contentsOf: file))
                } catch {
                    throw BlobAccessError("The state file \(file.path) cannot be read: \(error.localizedDescription)")
                }
                // Do not replay the same ids after a restart with the same seed.
                for _ in 0..<(state.jobs.count * 2 + 1) { _ = rng.next() }
                rng = SeededGenerator(seed: rng.next() ^ UInt64(state.jobs.count))
            } else {
                self.state = WorkspaceState.fresh(using: &rng, now: configuration.now())
            }
        } else {
            self.stateFile = nil
            self.state = WorkspaceState.fresh(using: &rng, now: configuration.now())
        }
        self.rng = rng
        try Self.write(state, to: stateFile)
    }

    var storageCredentials: (name: String, key: String) { (state.storageAccountName, state.storageAccountKey) }

    /// Called once the server listens: wires the blob store, seeds the initial model blob and resumes
    /// jobs that were running when the emulator last stopped.
    func attach(baseURL: String, blobs: any BlobAccess) async throws {
        self.baseURL = baseURL
        self.blobStore = blobs
        let initial = WorkspaceState.initialModelPath
        if try await blobs.read(container: initial.container, blob: initial.blob) == nil {
            try await blobs.write(container: initial.container, blob: initial.blob, data: LinearModel.initial.encoded(),
                                  contentType: "application/json")
        }
        for job in state.jobs.values where job.state == .running { spawnRunner(job.id) }
    }

    var blobs: any BlobAccess {
        get throws(MLServiceError) {
            guard let blobStore else {
                throw MLServiceError(status: 503, code: "ServiceUnavailable", message: "The emulator is starting.",
                                     detailCode: "InitializingContainers", detailMessage: "The emulator is starting; retry shortly.",
                                     retryAfter: 1)
            }
            return blobStore
        }
    }

    // MARK: - Persistence

    private func persist() throws {
        try Self.write(state, to: stateFile)
    }

    private static func write(_ state: WorkspaceState, to stateFile: URL?) throws {
        guard let stateFile else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(state).write(to: stateFile, options: .atomic)
    }

    private func save() throws(MLServiceError) {
        do { try persist() } catch {
            throw MLServiceError(status: 500, code: "InternalError", message: "The emulator could not save its state.",
                                 detailCode: "StateWriteFailed", detailMessage: "Writing the state folder failed.")
        }
    }

    // MARK: - Lookup and authentication

    private func checkWorkspace(_ workspaceId: String) throws(MLServiceError) {
        guard workspaceId.lowercased() == state.workspaceId else {
            throw .notFound("WorkspaceNotFound", "Workspace \(workspaceId) was not found.")
        }
    }

    /// Finds the endpoint that owns a BES/RRS service id.
    private func locateService(_ serviceId: String) throws(MLServiceError) -> (kind: WebServiceState.Kind, index: Int) {
        for kind in [WebServiceState.Kind.training, .predictive] {
            if let index = webService(kind).endpoints.firstIndex(where: { $0.serviceId == serviceId.lowercased() }) {
                return (kind, index)
            }
        }
        throw .notFound("WebServiceNotFound", "Web service \(serviceId) was not found in this workspace.")
    }

    private func locateWebService(_ webServiceId: String) throws(MLServiceError) -> WebServiceState.Kind {
        for kind in [WebServiceState.Kind.training, .predictive] where webService(kind).id == webServiceId.lowercased() {
            return kind
        }
        throw .notFound("WebServiceIdNotFoundInWorkspace", "Web service \(webServiceId) was not found in this workspace.")
    }

    private func webService(_ kind: WebServiceState.Kind) -> WebServiceState {
        kind == .training ? state.training : state.predictive
    }

    private func modifyWebService<T>(_ kind: WebServiceState.Kind, _ body: (inout WebServiceState) throws(MLServiceError) -> T) throws(MLServiceError) -> T {
        switch kind {
        case .training: return try body(&state.training)
        case .predictive: return try body(&state.predictive)
        }
    }

    private func isManagementToken(_ bearer: String?) -> Bool {
        guard let bearer else { return false }
        return constantTimeEqual(bearer, state.managementToken)
    }

    /// Admin routes accept only the workspace token.
    func authorizeAdmin(_ bearer: String?) throws(MLServiceError) {
        guard isManagementToken(bearer) else { throw .unauthorized("AdminRequestUnauthorized") }
    }

    private func checkVersion(_ apiVersion: String?) throws(MLServiceError) {
        guard apiVersion == "2.0" else {
            throw .badArgument("BadVersionCall",
                               "Invalid api-version '\(apiVersion ?? "")'; this service supports api-version=2.0.")
        }
    }

    /// Resolves a service id for a BES or RRS call and checks its key.
    private func serviceCall(workspace: String, serviceId: String, bearer: String?, apiVersion: String?) throws(MLServiceError)
        -> (kind: WebServiceState.Kind, index: Int) {
        try checkWorkspace(workspace)
        let located = try locateService(serviceId)
        guard webService(located.kind).endpoints[located.index].accepts(bearer) else {
            throw .unauthorized("ScoreRequestUnauthorized")
        }
        try checkVersion(apiVersion)
        return located
    }

    // MARK: - BES

    func submit(workspace: String, serviceId: String, bearer: String?, apiVersion: String?, body: Data) async throws(MLServiceError) -> String {
        let located = try serviceCall(workspace: workspace, serviceId: serviceId, bearer: bearer, apiVersion: apiVersion)
        guard located.kind == .training else {
            throw .invalidOperation("BatchExecutionNotSupported",
                                    "This emulator's predictive endpoints answer request-response calls only; submit jobs to the training service.")
        }
        let request: BatchExecutionRequest
        do {
            guard !body.isEmpty else { throw MLServiceError.badArgument("RequestBodyInvalid", "The request body is empty.") }
            request = try JSONDecoder().decode(BatchExecutionRequest.self, from: body)
        } catch {
            throw .badArgument("RequestBodyInvalid", "The request body is not a valid BatchExecutionRequest JSON object.")
        }
        if request.input != nil && request.inputs != nil {
            throw .badArgument("DuplicateInputInBatchCall", "Cannot specify both single and multiple input at the same time.")
        }
        var inputs = request.inputs ?? [:]
        if let single = request.input { inputs = ["input1": single] }
        let unknownInputs = inputs.keys.filter { $0 != "input1" }.sorted()
        if !unknownInputs.isEmpty {
            throw .badArgument("InvalidInputNames",
                               "Input name(s) \(unknownInputs.joined(separator: ", ")) do not match the web service inputs (input1).")
        }
        guard let inputRef = inputs["input1"] else {
            throw .badArgument("BatchJobInputsNotSpecified", "The following required input(s) were not specified with the request: input1.")
        }
        let outputRefs = request.outputs ?? [:]
        let unknownOutputs = outputRefs.keys.filter { $0 != "output1" && $0 != "output2" }.sorted()
        if !unknownOutputs.isEmpty {
            throw .badArgument("InvalidOutputOverrideName",
                               "Output name(s) \(unknownOutputs.joined(separator: ", ")) do not match the web service outputs (output1, output2); names are case-sensitive.")
        }
        if let name = (request.globalParameters ?? [:]).keys.sorted().first(where: { $0 != "labelColumn" }) {
            throw .badArgument("UnexpectedParameter", "Global parameter '\(name)' is not defined by this web service (only labelColumn is).")
        }
        let input = try resolve(inputRef, name: "input1", extensions: [".csv"], forRead: true)
        var outputs: [String: BlobPath] = [:]
        for (name, ref) in outputRefs {
            let extensions = name == "output1" ? [".ilearner"] : [".csv", ".tsv", ".arff"]
            outputs[name] = try resolve(ref, name: name, extensions: extensions, forRead: false)
        }
        let store = try blobs
        let exists: Bool
        do { exists = try await store.read(container: input.container, blob: input.blob) != nil } catch {
            throw .badArgument("InvalidBlob", "The input blob \(input.relativeLocation) could not be read.")
        }
        guard exists else {
            throw .badArgument("BlobNotFound", "The input blob \(input.relativeLocation) does not exist.")
        }
        let id = WorkspaceState.hexId(&rng)
        if outputs["output1"] == nil { outputs["output1"] = BlobPath(container: "experimentoutput", blob: "\(id)/\(id).ilearner") }
        if outputs["output2"] == nil { outputs["output2"] = BlobPath(container: "experimentoutput", blob: "\(id)/output2.csv") }
        let label = request.globalParameters?["labelColumn"]
        state.jobs[id] = JobRecord(id: id, serviceId: serviceId.lowercased(), state: .notStarted, input: input, outputs: outputs,
                                   labelColumn: label, details: nil, createdAt: settings.now())
        try save()
        return id
    }

    /// Validates one blob reference and maps it to the local storage account.
    private func resolve(_ ref: BlobReference, name: String, extensions: [String], forRead: Bool) throws(MLServiceError) -> BlobPath {
        guard let relative = ref.relativeLocation, !relative.isEmpty else {
            throw .badArgument("MissingInputBlobInformation", "The blob reference for \(name) has no RelativeLocation.")
        }
        guard let parts = splitBlobPath(relative) else {
            throw .badArgument("InvalidBlob", "The RelativeLocation of \(name) must have the form container/path.")
        }
        let path = BlobPath(container: parts.container, blob: parts.blob)
        let lower = path.blob.lowercased()
        guard extensions.contains(where: { lower.hasSuffix($0) }) else {
            throw .badArgument("InvalidBlobExtension",
                               "The blob reference: \(path.relativeLocation) has an invalid or missing file extension. Supported file extensions for this output type are: \"\(extensions.joined(separator: ", "))\".")
        }
        if let connection = ref.connectionString, !connection.isEmpty {
            let items = parseConnectionString(connection)
            guard items["accountname"] == state.storageAccountName,
                  let key = items["accountkey"], constantTimeEqual(key, state.storageAccountKey) else {
                throw .badArgument("InvalidBlobConnectionString",
                                   "The connection string of \(name) does not name this emulator's storage account with its key.")
            }
            return path
        }
        guard let base = ref.baseLocation, !base.isEmpty else {
            throw .badArgument("MissingInputBlobInformation",
                               "The blob reference for \(name) needs a ConnectionString, or a BaseLocation with a SasBlobToken.")
        }
        guard let store = try? blobs, Self.sameBase(base, store.blobEndpoint) else {
            throw .badArgument("InvalidBlob", "The BaseLocation of \(name) is not this emulator's blob endpoint.")
        }
        if forRead {
            guard let token = ref.sasBlobToken, store.isValidReadSAS(token, container: path.container, blob: path.blob) else {
                throw .badArgument("InvalidBlob", "The SasBlobToken of \(name) does not grant read access to \(path.relativeLocation).")
            }
        }
        return path
    }

    private static func sameBase(_ a: String, _ b: String) -> Bool {
        func trim(_ s: String) -> String { var t = s; while t.hasSuffix("/") { t.removeLast() }; return t.lowercased() }
        return trim(a) == trim(b)
    }

    private func job(_ jobId: String, serviceId: String) throws(MLServiceError) -> JobRecord {
        guard let job = state.jobs[jobId.lowercased()], job.serviceId == serviceId.lowercased() else {
            throw .notFound("JobNotFound", "Job \(jobId) was not found for this web service.")
        }
        return job
    }

    func start(workspace: String, serviceId: String, jobId: String, bearer: String?, apiVersion: String?) throws(MLServiceError) {
        _ = try serviceCall(workspace: workspace, serviceId: serviceId, bearer: bearer, apiVersion: apiVersion)
        var record = try job(jobId, serviceId: serviceId)
        guard record.state == .notStarted else {
            throw .invalidOperation("CannotStartJob", "The job cannot be started because it is in \(record.state.rawValue) state.")
        }
        record.state = .running
        record.startTime = settings.now()
        record.injectedFailure = faults.takeJobFailure()
        state.jobs[record.id] = record
        try save()
        spawnRunner(record.id)
    }

    func status(workspace: String, serviceId: String, jobId: String, bearer: String?, apiVersion: String?) throws(MLServiceError) -> Data {
        _ = try serviceCall(workspace: workspace, serviceId: serviceId, bearer: bearer, apiVersion: apiVersion)
        let record = try job(jobId, serviceId: serviceId)
        var body: [String: Any] = ["StatusCode": record.state.rawValue, "Details": record.details ?? NSNull()]
        if record.state == .finished {
            let store = try blobs
            var results: [String: Any] = [:]
            for (name, path) in record.outputs {
                results[name] = ["ConnectionString": NSNull(), "RelativeLocation": path.relativeLocation,
                                 "BaseLocation": store.blobEndpoint + "/",
                                 "SasBlobToken": store.readSASToken(container: path.container, blob: path.blob, validFor: Self.sasValidity)]
            }
            body["Results"] = results
        } else {
            body["Results"] = NSNull()
        }
        body["CreatedAt"] = Self.timestamp(record.createdAt)
        body["StartTime"] = record.startTime.map(Self.timestamp) ?? NSNull()
        body["EndTime"] = record.endTime.map(Self.timestamp) ?? NSNull()
        return Self.json(body)
    }

    func delete(workspace: String, serviceId: String, jobId: String, bearer: String?, apiVersion: String?) throws(MLServiceError) {
        _ = try serviceCall(workspace: workspace, serviceId: serviceId, bearer: bearer, apiVersion: apiVersion)
        var record = try job(jobId, serviceId: serviceId)
        guard record.state == .notStarted || record.state == .running else { return }
        record.state = .cancelled
        record.endTime = settings.now()
        state.jobs[record.id] = record
        try save()
    }

    private func spawnRunner(_ id: String) {
        let duration = settings.jobDuration
        Task { [weak self] in
            try? await Task.sleep(for: duration)
            await self?.runJob(id)
        }
    }

    /// Runs the training of a started job and records its outcome, unless it was cancelled meanwhile.
    private func runJob(_ id: String) async {
        guard let record = state.jobs[id], record.state == .running else { return }
        if let injected = record.injectedFailure {
            finish(id, failure: injected)
            return
        }
        guard let store = blobStore else { return }
        let data: Data?
        do { data = try await store.read(container: record.input.container, blob: record.input.blob) } catch {
            finish(id, failure: moduleFailure(id, "Reading the input blob \(record.input.relativeLocation) failed."))
            return
        }
        guard let data else {
            finish(id, failure: moduleFailure(id, "The input blob \(record.input.relativeLocation) no longer exists."))
            return
        }
        let label = record.labelColumn
        let trainedAt = settings.now()
        let outcome = await Task.detached { () -> Result<Trainer.Output, TrainingError> in
            do throws(TrainingError) {
                return .success(try Trainer.train(csv: data, labelColumn: label, trainedAt: trainedAt))
            } catch {
                return .failure(error)
            }
        }.value
        switch outcome {
        case .failure(let error):
            finish(id, failure: moduleFailure(id, error.description))
        case .success(let output):
            do {
                if let path = record.outputs["output1"] {
                    try await store.write(container: path.container, blob: path.blob, data: output.model.encoded(),
                                          contentType: "application/octet-stream")
                }
                if let path = record.outputs["output2"] {
                    var text = output.evaluationCSV
                    if path.blob.lowercased().hasSuffix(".tsv") { text = text.replacingOccurrences(of: ",", with: "\t") }
                    try await store.write(container: path.container, blob: path.blob, data: Data(text.utf8), contentType: "text/csv")
                }
            } catch {
                finish(id, failure: moduleFailure(id, "Writing the job outputs failed."))
                return
            }
            finish(id, failure: nil)
        }
    }

    private func moduleFailure(_ id: String, _ message: String) -> String {
        "Module: Train Model; Job Id: \(id); Error: \(message)"
    }

    private func finish(_ id: String, failure: String?) {
        guard var record = state.jobs[id], record.state == .running else { return }
        record.state = failure == nil ? .finished : .failed
        record.details = failure
        record.endTime = settings.now()
        state.jobs[id] = record
        try? persist()
    }

    // MARK: - RRS

    func score(workspace: String, serviceId: String, bearer: String?, apiVersion: String?, details: Bool, body: Data) throws(MLServiceError) -> Data {
        let located = try serviceCall(workspace: workspace, serviceId: serviceId, bearer: bearer, apiVersion: apiVersion)
        guard located.kind == .predictive else {
            throw .invalidOperation("RequestResponseNotSupported",
                                    "The training web service has no request-response API; RRS cannot be used for producing trained models.")
        }
        let settled = try modifyWebService(.predictive) { service in service.endpoints[located.index].settle(now: settings.now()) }
        if settled { try save() }
        guard let model = state.predictive.endpoints[located.index].model else {
            throw MLServiceError(status: 500, code: "InternalError", message: "The endpoint has no model.",
                                 detailCode: "ModelPackageNotFound", detailMessage: "The endpoint has no trained model.")
        }
        let table = try ScoringTable(parsing: body)
        return try table.score(with: model, details: details)
    }

    // MARK: - Endpoint management

    private func authorizeManagement(_ bearer: String?, kind: WebServiceState.Kind, endpoint: String?) throws(MLServiceError) {
        if isManagementToken(bearer) { return }
        let endpoints = webService(kind).endpoints
        let authorized: Bool
        if let endpoint, let target = endpoints.first(where: { $0.name == endpoint }) {
            authorized = target.accepts(bearer)
        } else {
            authorized = endpoints.contains { $0.accepts(bearer) }
        }
        guard authorized else { throw .unauthorized("ManagementRequestUnauthorized") }
    }

    private func endpointIndex(_ kind: WebServiceState.Kind, _ name: String) throws(MLServiceError) -> Int {
        guard let index = webService(kind).endpoints.firstIndex(where: { $0.name == name }) else {
            throw .notFound("EndpointNotFound", "Endpoint \(name) was not found in this web service.")
        }
        return index
    }

    func listEndpoints(workspace: String, webServiceId: String, bearer: String?) throws(MLServiceError) -> Data {
        try checkWorkspace(workspace)
        let kind = try locateWebService(webServiceId)
        try authorizeManagement(bearer, kind: kind, endpoint: nil)
        try settleAll(kind)
        return Self.json(webService(kind).endpoints.map { endpointObject(kind, $0) })
    }

    func getEndpoint(workspace: String, webServiceId: String, name: String, bearer: String?) throws(MLServiceError) -> Data {
        try checkWorkspace(workspace)
        let kind = try locateWebService(webServiceId)
        try authorizeManagement(bearer, kind: kind, endpoint: name)
        let index = try endpointIndex(kind, name)
        try settleAll(kind)
        return Self.json(endpointObject(kind, webService(kind).endpoints[index]))
    }

    private func settleAll(_ kind: WebServiceState.Kind) throws(MLServiceError) {
        let now = settings.now()
        let changed = try modifyWebService(kind) { service in
            service.endpoints.indices.map { service.endpoints[$0].settle(now: now) }.contains(true)
        }
        if changed { try save() }
    }

    func putEndpoint(workspace: String, webServiceId: String, name: String, bearer: String?, body: Data) throws(MLServiceError) -> Data {
        try checkWorkspace(workspace)
        let kind = try locateWebService(webServiceId)
        try authorizeManagement(bearer, kind: kind, endpoint: nil)
        guard (1...24).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw .badArgument("InvalidEndpointName", "Endpoint names are 1 to 24 letters or digits.")
        }
        let request: AddEndpointRequest
        if body.isEmpty {
            request = AddEndpointRequest()
        } else {
            do { request = try JSONDecoder().decode(AddEndpointRequest.self, from: body) } catch {
                throw .badArgument("RequestBodyInvalid", "The request body is not a valid endpoint JSON object.")
            }
        }
        let throttle = request.throttleLevel ?? "Low"
        guard throttle == "Low" || throttle == "High" else {
            throw .badArgument("InvalidThrottleLevel", "ThrottleLevel must be Low or High.")
        }
        var calls = 4
        if throttle == "High" {
            calls = request.maxConcurrentCalls ?? 20
            guard (1...200).contains(calls) else {
                throw .badArgument("InvalidMaxConcurrentCalls", "MaxConcurrentCalls must be between 1 and 200 with ThrottleLevel High.")
            }
        }
        let now = settings.now()
        var rng = self.rng
        let endpoint: EndpointState = try modifyWebService(kind) { service throws(MLServiceError) in
            if let index = service.endpoints.firstIndex(where: { $0.name == name }) {
                if let description = request.description { service.endpoints[index].description = description }
                service.endpoints[index].throttleLevel = throttle
                service.endpoints[index].maxConcurrentCalls = calls
                return service.endpoints[index]
            }
            guard service.endpoints.count < Self.maxEndpoints else {
                throw .badArgument("EndpointLimitReached",
                                   "A web service can have at most \(Self.maxEndpoints) endpoints, the default endpoint included.")
            }
            let isPredictive = service.kind == .predictive
            let created = EndpointState(
                name: name, serviceId: WorkspaceState.hexId(&rng), primaryKey: WorkspaceState.apiKey(&rng),
                secondaryKey: WorkspaceState.apiKey(&rng), description: request.description ?? "",
                creationTime: now, throttleLevel: throttle, maxConcurrentCalls: calls, isDefault: false,
                model: isPredictive ? .initial : nil, modelLocation: isPredictive ? WorkspaceState.initialModelPath : nil,
                pending: nil)
            service.endpoints.append(created)
            return created
        }
        self.rng = rng
        try save()
        return Self.json(endpointObject(kind, endpoint))
    }

    func deleteEndpoint(workspace: String, webServiceId: String, name: String, bearer: String?) throws(MLServiceError) {
        try checkWorkspace(workspace)
        let kind = try locateWebService(webServiceId)
        try authorizeManagement(bearer, kind: kind, endpoint: name)
        let index = try endpointIndex(kind, name)
        guard !webService(kind).endpoints[index].isDefault else {
            throw .invalidOperation("CannotDeleteDefaultEndpoint", "The default endpoint cannot be deleted.")
        }
        try modifyWebService(kind) { service in _ = service.endpoints.remove(at: index) }
        try save()
    }

    /// The update-resource call: validates the new `.ilearner` and schedules the model swap.
    func patchEndpoint(workspace: String, webServiceId: String, name: String, bearer: String?, body: Data) async throws(MLServiceError) -> String {
        try checkWorkspace(workspace)
        let kind = try locateWebService(webServiceId)
        try authorizeManagement(bearer, kind: kind, endpoint: name)
        let index = try endpointIndex(kind, name)
        guard kind == .predictive else {
            throw .badArgument("NoUpdatableResources", "This Web Service has no updatable resources.")
        }
        guard !state.predictive.endpoints[index].isDefault else {
            throw .badArgument("EndpointNotUpdatable",
                               "The trained model of the default endpoint cannot be replaced; patch a non-default endpoint.")
        }
        let request: UpdateResourceRequest
        do {
            guard !body.isEmpty else { throw MLServiceError.badArgument("RequestBodyInvalid", "empty") }
            request = try JSONDecoder().decode(UpdateResourceRequest.self, from: body)
        } catch {
            throw .badArgument("RequestBodyInvalid", "The request body is not a valid Resources JSON object.")
        }
        guard let resources = request.resources, !resources.isEmpty else {
            throw .badArgument("RequestBodyInvalid", "The request body has no Resources.")
        }
        var chosen: BlobReference?
        for resource in resources {
            guard resource.name == WorkspaceState.trainedModelName else {
                throw .badArgument("InvalidResourceName",
                                   "Resource '\(resource.name ?? "")' is not an updatable resource of this endpoint; use '\(WorkspaceState.trainedModelName)'.")
            }
            guard let location = resource.location else {
                throw .badArgument("MissingInputBlobInformation", "Resource '\(WorkspaceState.trainedModelName)' has no Location.")
            }
            chosen = location
        }
        guard let location = chosen else { throw .badArgument("RequestBodyInvalid", "The request body has no Resources.") }
        let path = try resolvePatchLocation(location)
        let store = try blobs
        let data: Data?
        do { data = try await store.read(container: path.container, blob: path.blob) } catch { data = nil }
        guard let data else {
            throw .badArgument("BlobNotFound", "The blob \(path.relativeLocation) does not exist.")
        }
        guard let model = LinearModel.decode(data) else {
            throw .invalidOperation("IncompatibleModel", "The blob \(path.relativeLocation) is not a model produced by this emulator's training service.")
        }
        // Re-locate: the endpoint may have changed while the blob was read.
        let current = try endpointIndex(.predictive, name)
        let now = settings.now()
        let delay = settings.propagationDelay
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        try modifyWebService(.predictive) { service in
            _ = service.endpoints[current].settle(now: now)
            service.endpoints[current].modelLocation = path
            if seconds <= 0 {
                service.endpoints[current].model = model
                service.endpoints[current].pending = nil
            } else {
                service.endpoints[current].pending = PendingSwap(model: model, location: path, effectiveAt: now.addingTimeInterval(seconds))
            }
        }
        try save()
        return path.relativeLocation
    }

    private func resolvePatchLocation(_ ref: BlobReference) throws(MLServiceError) -> BlobPath {
        guard let relative = ref.relativeLocation, let parts = splitBlobPath(relative) else {
            throw .badArgument("InvalidBlob", "The resource Location needs a RelativeLocation of the form container/path.")
        }
        let path = BlobPath(container: parts.container, blob: parts.blob)
        guard path.blob.lowercased().hasSuffix(".ilearner") else {
            throw .badArgument("InvalidBlobExtension",
                               "The blob reference: \(path.relativeLocation) has an invalid or missing file extension. Supported file extensions for this output type are: \".ilearner\".")
        }
        if let connection = ref.connectionString, !connection.isEmpty {
            let items = parseConnectionString(connection)
            guard items["accountname"] == state.storageAccountName,
                  let key = items["accountkey"], constantTimeEqual(key, state.storageAccountKey) else {
                throw .badArgument("InvalidBlobConnectionString", "The resource connection string does not name this emulator's storage account with its key.")
            }
            return path
        }
        let store = try blobs
        guard let base = ref.baseLocation, Self.sameBase(base, store.blobEndpoint) else {
            throw .badArgument("InvalidBlob", "The resource BaseLocation is not this emulator's blob endpoint.")
        }
        guard let token = ref.sasBlobToken, store.isValidReadSAS(token, container: path.container, blob: path.blob) else {
            throw .badArgument("BlobNotFound", "The blob \(path.relativeLocation) cannot be read with the given SasBlobToken.")
        }
        return path
    }

    private func endpointObject(_ kind: WebServiceState.Kind, _ endpoint: EndpointState) -> [String: Any] {
        let service = webService(kind)
        var resources: [[String: Any]] = []
        if let path = endpoint.modelLocation, let store = blobStore {
            resources.append(["Name": WorkspaceState.trainedModelName, "Kind": "Resource",
                              "Location": ["BaseLocation": store.blobEndpoint + "/", "RelativeLocation": path.relativeLocation,
                                           "SasBlobToken": store.readSASToken(container: path.container, blob: path.blob, validFor: Self.sasValidity)]])
        }
        return [
            "Name": endpoint.name, "Description": endpoint.description, "CreationTime": Self.timestamp(endpoint.creationTime),
            "WebServiceId": service.id, "WorkspaceId": state.workspaceId,
            "HelpLocation": "\(baseURL)/apihelp/workspaces/\(state.workspaceId)/webservices/\(service.id)/endpoints/\(endpoint.name)",
            "PrimaryKey": endpoint.primaryKey, "SecondaryKey": endpoint.secondaryKey,
            "ApiLocation": "\(baseURL)/workspaces/\(state.workspaceId)/services/\(endpoint.serviceId)",
            "Version": "1", "PreventUpdate": false, "SampleDataEnabled": false, "ExperimentLocation": "",
            "MaxConcurrentCalls": endpoint.maxConcurrentCalls, "DiagnosticsTraceLevel": "None",
            "ThrottleLevel": endpoint.throttleLevel, "IsDefault": endpoint.isDefault, "Resources": resources,
        ]
    }

    // MARK: - Instance description

    func instanceInfo() -> InstanceInfo {
        let ws = state.workspaceId
        let blobEndpoint = blobStore?.blobEndpoint ?? "\(baseURL)/\(state.storageAccountName)"
        let connectionString = blobStore?.connectionString
            ?? "DefaultEndpointsProtocol=http;AccountName=\(state.storageAccountName);AccountKey=\(state.storageAccountKey);BlobEndpoint=\(blobEndpoint);"
        let training = state.training.endpoints[0]
        func managementURL(_ service: WebServiceState, _ name: String) -> String {
            "\(baseURL)/workspaces/\(ws)/webservices/\(service.id)/endpoints/\(name)"
        }
        return InstanceInfo(
            baseURL: baseURL, workspaceId: ws, managementToken: state.managementToken, adminURL: "\(baseURL)/admin",
            stateDirectory: settings.stateDirectory?.path,
            storage: .init(accountName: state.storageAccountName, accountKey: state.storageAccountKey, blobEndpoint: blobEndpoint,
                           connectionString: connectionString, sasToken: blobStore?.accountSASToken ?? ""),
            training: .init(webServiceId: state.training.id, serviceId: training.serviceId,
                            jobsURL: "\(baseURL)/workspaces/\(ws)/services/\(training.serviceId)/jobs?api-version=2.0",
                            apiKey: training.primaryKey, managementURL: managementURL(state.training, training.name)),
            predictive: .init(webServiceId: state.predictive.id, endpoints: state.predictive.endpoints.map { endpoint in
                .init(name: endpoint.name, serviceId: endpoint.serviceId, apiKey: endpoint.primaryKey,
                      executeURL: "\(baseURL)/workspaces/\(ws)/services/\(endpoint.serviceId)/execute?api-version=2.0",
                      managementURL: managementURL(state.predictive, endpoint.name),
                      trainedModelName: WorkspaceState.trainedModelName, patchable: !endpoint.isDefault)
            }))
    }

    // MARK: - Helpers

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
    }

    static func json(_ value: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }
}
