import Foundation
import RefitCore
import RefitHTTP

/// A BES blob reference: either `ConnectionString` + `RelativeLocation` (`container/path`) or
/// `BaseLocation` + `RelativeLocation` + `SasBlobToken`.
public struct BlobReference: Codable, Hashable, Sendable {
    public var ConnectionString: String?
    public var RelativeLocation: String
    public var BaseLocation: String?
    public var SasBlobToken: String?

    public init(connectionString: String? = nil, relativeLocation: String, baseLocation: String? = nil,
                sasBlobToken: String? = nil) {
        self.ConnectionString = connectionString; self.RelativeLocation = relativeLocation
        self.BaseLocation = baseLocation; self.SasBlobToken = sasBlobToken
    }

    /// `BaseLocation + RelativeLocation + SasBlobToken`, the readable URL of a SAS reference.
    public var sasURL: String? {
        guard let base = BaseLocation, let token = SasBlobToken else { return nil }
        let joined = base.hasSuffix("/") || RelativeLocation.hasPrefix("/") ? base + RelativeLocation : base + "/" + RelativeLocation
        return joined + (token.hasPrefix("?") ? token : "?" + token)
    }
}

/// The BES submit body (`BatchExecutionRequest`).
public struct BatchExecutionRequest: Encodable, Hashable, Sendable {
    public var Inputs: [String: BlobReference]
    public var Outputs: [String: BlobReference]
    public var GlobalParameters: [String: String]

    public init(inputs: [String: BlobReference], outputs: [String: BlobReference], globalParameters: [String: String]) {
        self.Inputs = inputs; self.Outputs = outputs; self.GlobalParameters = globalParameters
    }

    /// The JSON body, keys sorted, a reference's absent fields left out (as `Encodable` would).
    /// Written with `JSONString` from typed values: `JSONEncoder` (and `JSONString`'s writer of
    /// `Any` values, whose dynamic casts cost as much) took about 130,000 instructions per submit.
    public func encoded() -> Data {
        func references(_ references: [String: BlobReference]) -> String {
            JSONString.object(rawValues: references.mapValues { reference in
                var fields = ["RelativeLocation": reference.RelativeLocation]
                if let value = reference.ConnectionString { fields["ConnectionString"] = value }
                if let value = reference.BaseLocation { fields["BaseLocation"] = value }
                if let value = reference.SasBlobToken { fields["SasBlobToken"] = value }
                return JSONString.object(fields)
            })
        }
        return Data(JSONString.object(rawValues: ["Inputs": references(Inputs), "Outputs": references(Outputs),
                                                  "GlobalParameters": JSONString.object(GlobalParameters)]).utf8)
    }
}

/// BES job states (`BatchScoreStatusCode`, 0...4 in this order).
public enum BatchJobState: String, Sendable, CaseIterable {
    case notStarted = "NotStarted", running = "Running", failed = "Failed", cancelled = "Cancelled", finished = "Finished"

    public var isTerminal: Bool { self == .failed || self == .cancelled || self == .finished }

    /// Accepts the name (any case) or the integer code as text.
    public init?(name text: String) {
        // Compared lowercased: the names are ASCII, and Foundation's `caseInsensitiveCompare` goes
        // through `NSString` on every status poll.
        let lowered = text.lowercased()
        if let state = Self.allCases.first(where: { $0.rawValue.lowercased() == lowered }) {
            self = state
        } else if let number = Int(text), Self.allCases.indices.contains(number) {
            self = Self.allCases[number]
        } else if lowered == "canceled" {
            self = .cancelled
        } else {
            return nil
        }
    }

    /// The integer code of the C# enum (0...4).
    public init?(code: Int) {
        guard Self.allCases.indices.contains(code) else { return nil }
        self = Self.allCases[code]
    }
}

/// Decodes the status body leniently: `StatusCode` as a name or integer, `Details` only if text.
private struct StatusBody: Decodable {
    var state: BatchJobState?
    var results: [String: ResultRef]?
    var details: String?

    struct ResultRef: Decodable {
        var RelativeLocation: String?
        var BaseLocation: String?
        var SasBlobToken: String?
    }

    enum Keys: String, CodingKey { case StatusCode, statusWithSpace = "Status Code", Results, Details }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        for key in [Keys.StatusCode, .statusWithSpace] where state == nil && c.contains(key) {
            if let number = try? c.decode(Int.self, forKey: key) {
                state = BatchJobState(code: number)
            } else if let text = try? c.decode(String.self, forKey: key) {
                state = BatchJobState(name: text)
            }
        }
        results = try c.decodeIfPresent([String: ResultRef].self, forKey: .Results)
        details = try? c.decodeIfPresent(String.self, forKey: .Details)
    }
}

/// What a status GET reports.
public struct BatchJobStatus: Hashable, Sendable {
    public var state: BatchJobState
    public var results: [String: BlobReference]
    public var details: String?
}

/// Client of the classic Batch Execution Service (`api-version=2.0`): submit, start, status, delete.
public struct AzureMLBatchClient: Sendable {
    /// `…/services/{id}/jobs`, no query.
    public let jobsURL: String
    let apiKey: String
    let http: HTTPClient

    /// - Parameter mlEndpoint: the linked service's `mlEndpoint`, with or without `/jobs` and a query.
    public init(mlEndpoint: String, apiKey: String, http: HTTPClient) throws(ActivityError) {
        guard let url = Self.normalizedJobsURL(mlEndpoint) else {
            throw ActivityError(.configuration, "The AzureML mlEndpoint is not an http(s) URL.")
        }
        self.jobsURL = url
        self.apiKey = apiKey
        self.http = http
    }

    /// Strips any query and fragment and makes the path end in `/jobs`.
    public static func normalizedJobsURL(_ endpoint: String) -> String? {
        // Tabs and spaces (Unicode's Zs), as `CharacterSet.whitespaces`, without going through NSString.
        var text = endpoint.trimming(while: { $0.isWhitespace && !$0.isNewline })
        if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = String(text[..<cut]) }
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil else { return nil }
        if !text.hasSuffix("/jobs") { text += "/jobs" }
        return text
    }

    func url(_ suffix: String = "") -> String { jobsURL + suffix + "?api-version=2.0" }

    /// Submits (does not start) a job; returns its id.
    public func submit(_ request: BatchExecutionRequest) async throws(ActivityError) -> String {
        let response = try await send(.post, url(), body: request.encoded(), operation: "Submitting the batch job")
        return try Self.parseJobID(response.body)
    }

    /// Starts a submitted job.
    public func start(jobID: String) async throws(ActivityError) {
        _ = try await send(.post, url("/\(Self.escape(jobID))/start"), body: Data(), operation: "Starting batch job \(jobID)")
    }

    /// Reads a job's state, results and details. `timeout` caps this one request (the poll passes
    /// what is left of the activity timeout, so a slow answer cannot outlast it).
    public func status(jobID: String, timeout: Duration? = nil) async throws(ActivityError) -> BatchJobStatus {
        let response = try await send(.get, url("/\(Self.escape(jobID))"), operation: "Reading batch job \(jobID)",
                                      timeout: timeout)
        return try Self.parseStatus(response.body)
    }

    /// Deletes (cancels) a job.
    public func delete(jobID: String) async throws(ActivityError) {
        _ = try await send(.delete, url("/\(Self.escape(jobID))"), operation: "Deleting batch job \(jobID)")
    }

    /// The submit response: a JSON string literal (tolerates a bare id).
    public static func parseJobID(_ body: Data) throws(ActivityError) -> String {
        let id: String?
        if let decoded = try? JSONDecoder().decode(String.self, from: body) {
            id = decoded
        } else {
            let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            id = text.isEmpty || text.contains(where: { "{}[]\" ".contains($0) }) ? nil : text
        }
        let alphanumerics = CharacterSet.alphanumerics  // read once: each read of the static costs a lookup
        guard let id, !id.isEmpty, id.count <= 200,
              id.unicodeScalars.allSatisfy({ isASCIIAlphanumeric($0) || $0 == "-" || $0 == "_" || alphanumerics.contains($0) }) else {
            throw ActivityError(.malformedResponse, "The batch service's submit response is not a job id.", isRetryable: true)
        }
        return id
    }

    /// The status body: `StatusCode` as a name or an integer, `Results` map or null, `Details`.
    public static func parseStatus(_ body: Data) throws(ActivityError) -> BatchJobStatus {
        let parsed: StatusBody
        do {
            parsed = try JSONDecoder().decode(StatusBody.self, from: body)
        } catch {
            throw ActivityError(.malformedResponse, "The batch service's job status is not the expected JSON object.", isRetryable: true)
        }
        guard let state = parsed.state else {
            throw ActivityError(.malformedResponse, "The batch service's job status has no recognizable StatusCode.", isRetryable: true)
        }
        var results: [String: BlobReference] = [:]
        for (name, ref) in parsed.results ?? [:] {
            guard let relative = ref.RelativeLocation else {
                throw ActivityError(.malformedResponse, "The batch job result '\(name)' has no RelativeLocation.", isRetryable: true)
            }
            results[name] = BlobReference(relativeLocation: relative, baseLocation: ref.BaseLocation,
                                          sasBlobToken: ref.SasBlobToken)
        }
        return BatchJobStatus(state: state, results: results, details: parsed.details)
    }

    /// `id` with everything but ASCII letters and digits percent-encoded. A job id of ASCII
    /// letters and digits only (the usual case) comes back as it is, without Foundation's encoder.
    static func escape(_ id: String) -> String {
        if id.unicodeScalars.allSatisfy(isASCIIAlphanumeric) { return id }
        return id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
    }

    func send(_ method: HTTPMethod, _ url: String, body: Data? = nil, operation: String, timeout: Duration? = nil)
        async throws(ActivityError) -> HTTPResponse
    {
        var headers: HTTPHeaders = ["Authorization": "Bearer \(apiKey)", "Accept": "application/json"]
        if body != nil { headers.set("Content-Type", "application/json") }
        return try await AzureMLHTTP.send(http, HTTPRequest(method: method, url: url, headers: headers, body: body,
                                                            timeout: timeout, target: "aml"),
                                          operation: operation)
    }
}

enum AzureMLHTTP {
    /// Sends and classifies: transport failures and non-2xx statuses become ``ActivityError``s.
    static func send(_ http: HTTPClient, _ request: HTTPRequest, operation: String) async throws(ActivityError)
        -> HTTPResponse
    {
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch {
            throw ActivityError.from(error, operation: operation)
        }
        guard response.isSuccess else {
            let retryAfter = response.headers["Retry-After"].flatMap { HTTPError.parseRetryAfter($0) }
            throw ActivityError.from(status: response.status, body: response.body, retryAfter: retryAfter,
                                     operation: operation)
        }
        return response
    }
}

/// Client of the classic web-service endpoint management API: the update-resource PATCH.
public struct AzureMLManagementClient: Sendable {
    let http: HTTPClient
    public init(http: HTTPClient) { self.http = http }

    /// The PATCH body: `{"Resources":[{"Name":…, "Location":{BaseLocation, RelativeLocation, SasBlobToken}}]}`.
    public static func patchBody(resourceName: String, location: BlobReference) -> Data {
        let object: [String: Any?] = ["Resources": [[
            "Name": resourceName,
            "Location": ["BaseLocation": location.BaseLocation ?? "", "RelativeLocation": location.RelativeLocation,
                         "SasBlobToken": location.SasBlobToken ?? ""],
        ]]]
        return Data(JSONString.detail(object).utf8)
    }

    /// PATCHes `endpointURL` so the endpoint's `resourceName` uses the model at `location`.
    public func updateResource(endpointURL: String, apiKey: String, resourceName: String, location: BlobReference)
        async throws(ActivityError)
    {
        let request = HTTPRequest(method: .patch, url: endpointURL,
                                  headers: ["Authorization": "Bearer \(apiKey)", "Content-Type": "application/json",
                                            "Accept": "application/json"],
                                  body: Self.patchBody(resourceName: resourceName, location: location), target: "aml")
        _ = try await AzureMLHTTP.send(http, request, operation: "Updating the endpoint's trained model")
    }
}

/// An ASCII letter or digit: the ASCII part of `CharacterSet.alphanumerics`, without its lookup.
private func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
    default: false
    }
}
