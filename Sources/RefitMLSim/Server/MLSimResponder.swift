import Foundation
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
    let blobRoutes: (any BlobHTTPRoutes)?
    let accountName: String
    let now: @Sendable () -> Date

    /// One resolved route: its fault operation, log name and handler.
    private struct Route {
        var fault: FaultOperation?
        var opName: String
        var handler: @Sendable () async throws(MLServiceError) -> (Response, OperationFacts)
    }

    func respond(to request: Request, context: MLSimRequestContext) async throws -> Response {
        let rawPath = request.uri.path
        let segments = rawPath.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let query = EmulatorSAS.parseQuery(request.uri.query ?? "")
        let bearer = Self.bearer(request.headers[.authorization])
        let method = request.method
        let isMutating = method != .get && method != .head
        let body: Data
        do {
            let buffer = try await request.body.collect(upTo: context.maxUploadSize)
            body = Data(buffer.readableBytesView)
        } catch {
            return Self.errorResponse(MLServiceError(status: 413, code: "MemoryQuotaViolation", message: "The request body is too large.",
                                                     detailCode: "OutOfMemoryLimit", detailMessage: "The request body is too large."))
        }
        let route = self.route(method: method, segments: segments, query: query, rawQuery: request.uri.query ?? "",
                               headers: request.headers, bearer: bearer, body: body)

        var faultLabel: String?
        if let operation = route.fault, case .delay(let milliseconds, let outcome) = faults.decide(operation) {
            if milliseconds > 0 { try? await Task.sleep(for: .milliseconds(milliseconds)) }
            switch outcome {
            case .proceed:
                break
            case .drop:
                if isMutating { record(route.opName, method, rawPath, status: nil, facts: OperationFacts(), fault: "drop") }
                context.channel.close(promise: nil)
                throw DroppedConnection()
            case .malformed:
                if isMutating { record(route.opName, method, rawPath, status: 200, facts: OperationFacts(), fault: "malformed") }
                return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: "{\"StatusCode\": \"Finis")))
            case .error(let error):
                if isMutating { record(route.opName, method, rawPath, status: error.status, facts: OperationFacts(), fault: String(error.status)) }
                return Self.errorResponse(error)
            }
            faultLabel = milliseconds > 0 ? "latency" : nil
        }

        let response: Response
        var facts = OperationFacts()
        do {
            (response, facts) = try await route.handler()
        } catch {
            response = Self.errorResponse(error)
        }
        if isMutating { record(route.opName, method, rawPath, status: response.status.code, facts: facts, fault: faultLabel) }
        return response
    }

    private func record(_ op: String, _ method: HTTPRequest.Method, _ path: String, status: Int?, facts: OperationFacts, fault: String?) {
        log.append(OperationRecord(at: now(), op: op, method: method.rawValue, path: path, status: status, jobId: facts.jobId,
                                   endpoint: facts.endpoint, resourceLocation: facts.resourceLocation, fault: fault))
    }

    // MARK: - Routing

    private func route(method: HTTPRequest.Method, segments s: [String], query: [String: String], rawQuery: String,
                       headers: HTTPFields, bearer: String?, body: Data) -> Route {
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
                    return (Self.json(.ok, Data("\"\(id)\"".utf8)), OperationFacts(jobId: id))
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
        if s.count >= 3, s[0] == accountName, let blobRoutes {
            let container = s[1], blob = s[2...].joined(separator: "/")
            return Route(fault: .blob, opName: method == .put ? "blob-put" : "blob") { () throws(MLServiceError) in
                guard splitBlobPath("\(container)/\(blob)") != nil else {
                    throw .badArgument("InvalidBlob", "The blob path must be container/path without empty or dot segments.")
                }
                let store = try await emulator.blobs
                let response = try await blobRoutes.respond(method: method, container: container, blob: blob, query: rawQuery,
                                                            headers: headers, body: body, store: store)
                return (response, OperationFacts(resourceLocation: "\(container)/\(blob)"))
            }
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
