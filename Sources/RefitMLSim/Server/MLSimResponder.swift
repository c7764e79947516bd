import Foundation
import HTTPTypes
import Hummingbird

/// Routes every request of the emulator: BES, RRS, endpoint management, admin and blob paths.
///
/// Routing is done by hand over path segments so that unknown paths, faults and the operations
/// log are handled in one place with the classic error envelope.
struct MLSimResponder: HTTPResponder {
    typealias Context = MLSimRequestContext

    let emulator: Emulator
    let faults: FaultInjector
    let log: OperationsLog
    /// Serves `{blobEndpoint}/…` (path-style: `/<accountName>/<container>/<blob>`).
    let blobService: BlobService
    let now: @Sendable () -> Date

    /// One resolved route: its fault operation, log name and handler.
    private struct Route {
        var fault: FaultOperation?
        var opName: String
        var handler: @Sendable () async throws(MLServiceError) -> (Response, OperationFacts)
    }

    /// What fault injection decided for one call: go on (with a log label), or answer this instead.
    private enum FaultDecision {
        /// Go on; `holdMs` > 0 holds the answer back after the effect is logged.
        case proceed(label: String?, holdMs: Int = 0)
        case answer(Response)
    }

    func respond(to request: Request, context: MLSimRequestContext) async throws -> Response {
        let rawPath = request.uri.path
        let method = request.method
        let isMutating = method != .get && method != .head
        let blobPrefix = "/\(blobService.accountName)"
        if rawPath == blobPrefix || rawPath.hasPrefix(blobPrefix + "/") {
            return try await respondBlob(to: request, context: context, isMutating: isMutating)
        }
        let segments = rawPath.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let query = Self.parseQuery(request.uri.query ?? "")
        let bearer = Self.bearer(request.headers[.authorization])
        let body: Data
        do {
            let buffer = try await request.body.collect(upTo: context.maxUploadSize)
            body = Data(buffer.readableBytesView)
        } catch {
            return Self.errorResponse(MLServiceError(status: 413, code: "MemoryQuotaViolation", message: "The request body is too large.",
                                                     detailCode: "OutOfMemoryLimit", detailMessage: "The request body is too large."))
        }
        let route = self.route(method: method, segments: segments, query: query, bearer: bearer, body: body)

        var faultLabel: String?
        var holdMs = 0
        switch try await injectFault(route.fault, opName: route.opName, method: method, path: rawPath,
                                     isMutating: isMutating, context: context, blob: false) {
        case .answer(let response): return response
        case .proceed(let label, let hold): faultLabel = label; holdMs = hold
        }

        let response: Response
        var facts = OperationFacts()
        do {
            (response, facts) = try await route.handler()
        } catch {
            response = Self.errorResponse(error)
        }
        if isMutating { record(route.opName, method, rawPath, status: response.status.code, facts: facts, fault: faultLabel) }
        if holdMs > 0 { try? await Task.sleep(for: .milliseconds(holdMs)) }
        return response
    }

    /// Blob requests go to the blob service (which authorizes them) after fault injection (operation `blob`);
    /// mutating ones are logged with the request path only, never the query that may carry a SAS.
    private func respondBlob(to request: Request, context: MLSimRequestContext, isMutating: Bool) async throws -> Response {
        let rawPath = request.uri.path
        let method = request.method
        let query = Self.parseQuery(request.uri.query ?? "")
        let (opName, location) = Self.blobOperation(method: method, path: rawPath, accountName: blobService.accountName,
                                                    query: query)
        var faultLabel: String?
        var holdMs = 0
        switch try await injectFault(.blob, opName: opName, method: method, path: rawPath, isMutating: isMutating,
                                     context: context, blob: true) {
        case .answer(let response): return response
        case .proceed(let label, let hold): faultLabel = label; holdMs = hold
        }
        let response = try await blobService.respond(to: request, context: context)
        if isMutating {
            record(opName, method, rawPath, status: response.status.code, facts: OperationFacts(resourceLocation: location),
                   fault: faultLabel)
        }
        if holdMs > 0 { try? await Task.sleep(for: .milliseconds(holdMs)) }
        return response
    }

    /// The operations-log name of a blob call and the `container[/blob]` it addresses.
    static func blobOperation(method: HTTPRequest.Method, path: String, accountName: String,
                              query: [String: String]) -> (op: String, location: String?) {
        let rest = path.dropFirst(accountName.count + 1).drop { $0 == "/" }
        let location = rest.isEmpty ? nil : (String(rest).removingPercentEncoding ?? String(rest))
        let isContainer = location.map { !$0.contains("/") } ?? false
        let comp = query["comp"]
        switch method {
        case .put where isContainer && query["restype"] == "container": return ("container-create", location)
        case .delete where isContainer && query["restype"] == "container": return ("container-delete", location)
        case .put where !isContainer && comp == "block": return ("block-put", location)
        case .put where !isContainer && comp == "blocklist": return ("blocklist-put", location)
        case .put where !isContainer && comp == nil: return ("blob-put", location)
        case .delete where !isContainer: return ("blob-delete", location)
        default: return ("blob", location)
        }
    }

    /// Applies the fault plan of `operation` to one call, logging faulted mutating calls. Blob calls get
    /// Azure Storage's error shape (XML body, `x-ms-error-code`), the rest the ML service's JSON envelope.
    private func injectFault(_ operation: FaultOperation?, opName: String, method: HTTPRequest.Method, path: String,
                             isMutating: Bool, context: MLSimRequestContext, blob: Bool) async throws -> FaultDecision {
        guard let operation, case .delay(let milliseconds, let outcome) = faults.decide(operation) else {
            return .proceed(label: nil)
        }
        if milliseconds > 0 { try? await Task.sleep(for: .milliseconds(milliseconds)) }
        switch outcome {
        case .proceed:
            return .proceed(label: milliseconds > 0 ? "latency" : nil)
        case .hold(let hold):
            return .proceed(label: "hold", holdMs: hold)
        case .drop:
            if isMutating { record(opName, method, path, status: nil, facts: OperationFacts(), fault: "drop") }
            context.channel.close(promise: nil)
            throw DroppedConnection()
        case .malformed:
            if isMutating { record(opName, method, path, status: 200, facts: OperationFacts(), fault: "malformed") }
            if blob {
                return .answer(Response(status: .ok, headers: [.contentType: "application/xml"],
                                        body: .init(byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults"))))
            }
            return .answer(Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                                    body: .init(byteBuffer: ByteBuffer(string: "{\"StatusCode\": \"Finis"))))
        case .error(let error):
            if isMutating { record(opName, method, path, status: error.status, facts: OperationFacts(), fault: String(error.status)) }
            return .answer(blob ? Self.blobErrorResponse(error) : Self.errorResponse(error))
        }
    }

    /// An injected failure as Azure Storage answers it: 503 `ServerBusy`, 500 `InternalError`,
    /// 403 `AuthorizationFailure`.
    static func blobErrorResponse(_ error: MLServiceError) -> Response {
        let (code, message): (String, String) = switch error.status {
        case 500: ("InternalError", "The server encountered an internal error. Please retry the request.")
        case 403: ("AuthorizationFailure", "This request is not authorized to perform this operation.")
        default: ("ServerBusy", "The server is currently unable to receive requests. Please retry your request.")
        }
        let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>\(code)</Code><Message>\(message)</Message></Error>"
        var response = Response(status: HTTPResponse.Status(code: error.status),
                                headers: [.contentType: "application/xml"], body: .init(byteBuffer: ByteBuffer(string: xml)))
        if let name = HTTPField.Name("x-ms-error-code") { response.headers[name] = code }
        if let retryAfter = error.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    /// The `RelativeLocation` of a submitted job's `input1` (or single `Input`), for the operations
    /// log: tests tell from it which data slice each job trains on.
    static func submittedInput(_ body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        let input = (object["Inputs"] as? [String: Any])?["input1"] ?? object["Input"]
        return (input as? [String: Any])?["RelativeLocation"] as? String
    }

    /// Parses `a=b&c=d` (leading `?` optional) into percent-decoded items; the first of repeated names wins.
    static func parseQuery(_ query: String) -> [String: String] {
        var text = Substring(query)
        if text.hasPrefix("?") { text = text.dropFirst() }
        var items: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let raw = parts.count > 1 ? String(parts[1]) : ""
            if items[name] == nil { items[name] = raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? raw }
        }
        return items
    }

    private func record(_ op: String, _ method: HTTPRequest.Method, _ path: String, status: Int?, facts: OperationFacts, fault: String?) {
        log.append(OperationRecord(at: now(), op: op, method: method.rawValue, path: path, status: status, jobId: facts.jobId,
                                   endpoint: facts.endpoint, resourceLocation: facts.resourceLocation, fault: fault))
    }

    // MARK: - Routing

    private func route(method: HTTPRequest.Method, segments s: [String], query: [String: String],
                       bearer: String?, body: Data) -> Route {
        let emulator = self.emulator
        let version = query["api-version"]
        let notFound = Route(fault: nil, opName: "unknown") { () throws(MLServiceError) in
            throw .notFound("ResourceNotFound", "The requested resource or operation is not supported by this emulator.")
        }
        if s.count >= 5, s[0] == "workspaces", s[2] == "services" {
            let ws = s[1], sid = s[3]
            switch (method, Array(s.dropFirst(4))) {
            case (.post, ["jobs"]):
                return Route(fault: .submit, opName: "submit") { () throws(MLServiceError) in
                    let id = try await emulator.submit(workspace: ws, serviceId: sid, bearer: bearer, apiVersion: version, body: body)
                    return (Self.json(.ok, Data("\"\(id)\"".utf8)),
                            OperationFacts(jobId: id, resourceLocation: Self.submittedInput(body)))
                }
            case (.post, let rest) where rest.count == 3 && rest[0] == "jobs" && rest[2] == "start":
                let id = rest[1]
                return Route(fault: .start, opName: "start") { () throws(MLServiceError) in
                    try await emulator.start(workspace: ws, serviceId: sid, jobId: id, bearer: bearer, apiVersion: version)
                    return (Self.empty(.ok), OperationFacts(jobId: id))
                }
            case (.get, let rest) where rest.count == 2 && rest[0] == "jobs":
                let id = rest[1]
                return Route(fault: .status, opName: "status") { () throws(MLServiceError) in
                    let data = try await emulator.status(workspace: ws, serviceId: sid, jobId: id, bearer: bearer, apiVersion: version)
                    return (Self.json(.ok, data), OperationFacts(jobId: id))
                }
            case (.delete, let rest) where rest.count == 2 && rest[0] == "jobs":
                let id = rest[1]
                return Route(fault: .delete, opName: "delete") { () throws(MLServiceError) in
                    try await emulator.delete(workspace: ws, serviceId: sid, jobId: id, bearer: bearer, apiVersion: version)
                    return (Self.empty(.ok), OperationFacts(jobId: id))
                }
            case (.post, ["execute"]):
                let details = query["details"]?.lowercased() == "true"
                return Route(fault: .score, opName: "score") { () throws(MLServiceError) in
                    let data = try await emulator.score(workspace: ws, serviceId: sid, bearer: bearer, apiVersion: version,
                                                        details: details, body: body)
                    return (Self.json(.ok, data), OperationFacts())
                }
            default:
                return notFound
            }
        }
        if s.count >= 5, s[0] == "workspaces", s[2] == "webservices", s[4] == "endpoints" {
            let ws = s[1], wsid = s[3]
            if s.count == 5 {
                guard method == .get else { return notFound }
                return Route(fault: .list, opName: "list") { () throws(MLServiceError) in
                    (Self.json(.ok, try await emulator.listEndpoints(workspace: ws, webServiceId: wsid, bearer: bearer)), OperationFacts())
                }
            }
            guard s.count == 6 else { return notFound }
            let name = s[5]
            switch method {
            case .get:
                return Route(fault: .management, opName: "get-endpoint") { () throws(MLServiceError) in
                    (Self.json(.ok, try await emulator.getEndpoint(workspace: ws, webServiceId: wsid, name: name, bearer: bearer)),
                     OperationFacts(endpoint: name))
                }
            case .put:
                return Route(fault: .management, opName: "put-endpoint") { () throws(MLServiceError) in
                    (Self.json(.ok, try await emulator.putEndpoint(workspace: ws, webServiceId: wsid, name: name, bearer: bearer, body: body)),
                     OperationFacts(endpoint: name))
                }
            case .delete:
                return Route(fault: .management, opName: "delete-endpoint") { () throws(MLServiceError) in
                    try await emulator.deleteEndpoint(workspace: ws, webServiceId: wsid, name: name, bearer: bearer)
                    return (Self.empty(.ok), OperationFacts(endpoint: name))
                }
            case .patch:
                return Route(fault: .patch, opName: "patch") { () throws(MLServiceError) in
                    let location = try await emulator.patchEndpoint(workspace: ws, webServiceId: wsid, name: name, bearer: bearer, body: body)
                    return (Self.empty(.ok), OperationFacts(endpoint: name, resourceLocation: location))
                }
            default:
                return notFound
            }
        }
        if s.count == 2, s[0] == "admin" {
            return adminRoute(method: method, name: s[1], bearer: bearer, body: body) ?? notFound
        }
        return notFound
    }

    private func adminRoute(method: HTTPRequest.Method, name: String, bearer: String?, body: Data) -> Route? {
        let emulator = self.emulator, faults = self.faults, log = self.log
        switch (method, name) {
        case (.get, "info"):
            return Route(fault: nil, opName: "admin-info") { () throws(MLServiceError) in
                try await emulator.authorizeAdmin(bearer)
                let info = await emulator.instanceInfo()
                return (Self.json(.ok, Data(info.jsonLine().utf8)), OperationFacts())
            }
        case (.get, "operations"):
            return Route(fault: nil, opName: "admin-operations") { () throws(MLServiceError) in
                try await emulator.authorizeAdmin(bearer)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                let data = (try? encoder.encode(log.all)) ?? Data("[]".utf8)
                return (Self.json(.ok, data), OperationFacts())
            }
        case (.get, "faults"):
            return Route(fault: nil, opName: "admin-faults") { () throws(MLServiceError) in
                try await emulator.authorizeAdmin(bearer)
                return (Self.json(.ok, (try? JSONEncoder().encode(faults.current)) ?? Data("{}".utf8)), OperationFacts())
            }
        case (.post, "faults"):
            return Route(fault: nil, opName: "admin-faults-set") { () throws(MLServiceError) in
                try await emulator.authorizeAdmin(bearer)
                let update = try Self.decodeFaults(body)
                faults.apply(update.settings, replaceFailJobs: update.hasFailJobs)
                return (Self.json(.ok, (try? JSONEncoder().encode(faults.current)) ?? Data("{}".utf8)), OperationFacts())
            }
        case (.delete, "faults"):
            return Route(fault: nil, opName: "admin-faults-clear") { () throws(MLServiceError) in
                try await emulator.authorizeAdmin(bearer)
                faults.clear()
                return (Self.empty(.ok), OperationFacts())
            }
        default:
            return nil
        }
    }

    /// Admin fault body: `{"plans":[FaultPlan…], "failJobs": N, "failJobsDetails": "…"}`, or one plan object.
    private static func decodeFaults(_ body: Data) throws(MLServiceError) -> (settings: FaultSettings, hasFailJobs: Bool) {
        struct Body: Decodable {
            var plans: [FaultPlan]?
            var failJobs: Int?
            var failJobsDetails: String?
        }
        let decoder = JSONDecoder()
        var settings = FaultSettings()
        var hasFailJobs = false
        if let parsed = try? decoder.decode(Body.self, from: body), parsed.plans != nil || parsed.failJobs != nil {
            settings.plans = parsed.plans ?? []
            if let fail = parsed.failJobs {
                guard fail >= 0 else { throw .badArgument("RequestBodyInvalid", "failJobs must not be negative.") }
                settings.failJobs = fail
                settings.failJobsDetails = parsed.failJobsDetails
                hasFailJobs = true
            }
        } else if let plan = try? decoder.decode(FaultPlan.self, from: body) {
            settings.plans = [plan]
        } else {
            throw .badArgument("RequestBodyInvalid", "The body must be {\"plans\":[…],\"failJobs\":N} or one fault plan object.")
        }
        for plan in settings.plans {
            do { try plan.validate() } catch { throw .badArgument("RequestBodyInvalid", error.description) }
        }
        return (settings, hasFailJobs)
    }

    // MARK: - Responses

    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    static func json(_ status: HTTPResponse.Status, _ data: Data) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func empty(_ status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentLength: "0"])
    }

    static func errorResponse(_ error: MLServiceError) -> Response {
        var response = json(HTTPResponse.Status(code: error.status), error.body)
        if let retryAfter = error.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}

/// Thrown after closing a connection on purpose, so Hummingbird writes nothing.
struct DroppedConnection: Error {}
