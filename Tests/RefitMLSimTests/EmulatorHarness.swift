import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefitMLSim
import Testing

/// A manual clock the tests move forward instead of sleeping.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }
    var now: Date { lock.withLock { current } }
    func advance(seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

struct HTTPResult {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    var object: [String: Any] { (json as? [String: Any]) ?? [:] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    var detailCode: String? {
        ((object["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first?["code"] as? String
    }
    var detailMessage: String? {
        ((object["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first?["message"] as? String
    }
    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

/// One emulator per test, on a free loopback port.
struct TestEmulator {
    let handle: MLSimHandle
    var info: InstanceInfo { handle.info }
    var jobsBase: String { String(info.training.jobsURL.split(separator: "?")[0]) }
    var trainingKey: String { info.training.apiKey }
    var retrain: InstanceInfo.Endpoint { info.endpoint("retrain")! }
    var defaultEndpoint: InstanceInfo.Endpoint { info.endpoint("default")! }

    static func start(_ configure: (inout MLSimConfiguration) -> Void = { _ in }) async throws -> TestEmulator {
        var configuration = MLSimConfiguration(jobDuration: .zero, seed: 42)
        configure(&configuration)
        return TestEmulator(handle: try await MLSimServer.launch(configuration))
    }

    func stop() async { await handle.shutdown() }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        return URLSession(configuration: configuration)
    }()

    @discardableResult
    func send(_ method: String, _ url: String, bearer: String? = nil, body: Data? = nil,
              contentType: String = "application/json", headers: [String: String] = [:],
              session: URLSession = TestEmulator.session) async throws -> HTTPResult {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)"] = "\(value)" }
        return HTTPResult(status: http.statusCode, headers: headers, body: data)
    }

    func sendJSON(_ method: String, _ url: String, bearer: String?, _ object: Any) async throws -> HTTPResult {
        try await send(method, url, bearer: bearer, body: try JSONSerialization.data(withJSONObject: object))
    }

    // MARK: Blob helpers

    /// Uploads like curl does with the printed account SAS: creates the container (409 when it exists),
    /// then Put Blob.
    func upload(_ path: String, _ data: Data) async throws {
        let container = try #require(path.split(separator: "/").first)
        let created = try await send("PUT", "\(info.storage.blobEndpoint)/\(container)\(info.storage.sasToken)&restype=container")
        #expect(created.status == 201 || created.status == 409, "create container: \(created.text)")
        let result = try await putBlob(path, data)
        #expect(result.status == 201, "put blob: \(result.text)")
    }

    /// Put Blob with the account SAS (or `sas` when given), as a BlockBlob.
    func putBlob(_ path: String, _ data: Data, sas: String? = nil) async throws -> HTTPResult {
        try await send("PUT", "\(info.storage.blobEndpoint)/\(path)\(sas ?? info.storage.sasToken)", body: data,
                       contentType: "text/csv", headers: ["x-ms-blob-type": "BlockBlob"])
    }

    func ref(_ path: String) -> [String: Any] {
        ["ConnectionString": info.storage.connectionString, "RelativeLocation": path]
    }

    // MARK: BES helpers

    func submit(_ body: [String: Any], key: String? = nil, version: String? = "2.0") async throws -> HTTPResult {
        let url = version.map { "\(jobsBase)?api-version=\($0)" } ?? jobsBase
        return try await sendJSON("POST", url, bearer: key ?? trainingKey, body)
    }

    func trainingRequest(input: String = "data/train.csv", output1: String = "models/out.ilearner",
                         output2: String = "models/eval.csv", parameters: [String: String] = [:]) -> [String: Any] {
        ["Inputs": ["input1": ref(input)], "Outputs": ["output1": ref(output1), "output2": ref(output2)],
         "GlobalParameters": parameters]
    }

    func submitJob(_ body: [String: Any]) async throws -> String {
        let result = try await submit(body)
        #expect(result.status == 200, "submit failed: \(result.text)")
        return try #require(result.json as? String)
    }

    func start(_ id: String) async throws -> HTTPResult {
        try await send("POST", "\(jobsBase)/\(id)/start?api-version=2.0", bearer: trainingKey)
    }

    func status(_ id: String) async throws -> HTTPResult {
        try await send("GET", "\(jobsBase)/\(id)?api-version=2.0", bearer: trainingKey)
    }

    /// Polls until the job leaves NotStarted/Running.
    func waitForJob(_ id: String) async throws -> [String: Any] {
        for _ in 0..<500 {
            let object = try await status(id).object
            let code = object["StatusCode"] as? String
            if code != "Running" && code != "NotStarted" { return object }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("job \(id) did not finish")
        return [:]
    }

    /// Uploads `csv`, trains, and returns the job id and the finished status object.
    func train(csv: String, output1: String = "models/out.ilearner") async throws -> (id: String, status: [String: Any]) {
        try await upload("data/train.csv", Data(csv.utf8))
        let id = try await submitJob(trainingRequest(output1: output1))
        #expect(try await start(id).status == 200)
        return (id, try await waitForJob(id))
    }

    /// The Location fields of a finished job's output.
    func location(_ status: [String: Any], _ output: String = "output1") throws -> [String: Any] {
        let entry = try #require((status["Results"] as? [String: Any])?[output] as? [String: Any])
        return ["BaseLocation": try #require(entry["BaseLocation"] as? String),
                "RelativeLocation": try #require(entry["RelativeLocation"] as? String),
                "SasBlobToken": try #require(entry["SasBlobToken"] as? String)]
    }

    func fetch(_ location: [String: Any]) async throws -> HTTPResult {
        try await send("GET", "\(location["BaseLocation"]!)\(location["RelativeLocation"]!)\(location["SasBlobToken"]!)")
    }

    // MARK: RRS and management helpers

    func score(_ endpoint: InstanceInfo.Endpoint, x1: String = "2", x2: String = "1", details: Bool = false) async throws -> HTTPResult {
        let url = endpoint.executeURL + (details ? "&details=true" : "")
        return try await sendJSON("POST", url, bearer: endpoint.apiKey,
                                  ["Inputs": ["input1": ["ColumnNames": ["x1", "x2"], "Values": [[x1, x2]]]], "GlobalParameters": [:]])
    }

    func scoredLabel(_ endpoint: InstanceInfo.Endpoint) async throws -> String? {
        try await scoredLabel(executeURL: endpoint.executeURL, key: endpoint.apiKey)
    }

    func scoredLabel(executeURL: String, key: String) async throws -> String? {
        let object = try await sendJSON("POST", executeURL, bearer: key,
                                        ["Inputs": ["input1": ["ColumnNames": ["x1", "x2"], "Values": [["2", "1"]]]]]).object
        let value = ((object["Results"] as? [String: Any])?["output1"] as? [String: Any])?["value"] as? [String: Any]
        return (value?["Values"] as? [[String]])?.first?.last
    }

    func patchBody(_ location: [String: Any], name: String = "Refit Demo Model [trained model]") -> [String: Any] {
        ["Resources": [["Name": name, "Location": location]]]
    }

    func patch(_ endpoint: InstanceInfo.Endpoint, _ body: [String: Any], bearer: String? = nil) async throws -> HTTPResult {
        try await sendJSON("PATCH", endpoint.managementURL, bearer: bearer ?? endpoint.apiKey, body)
    }

    func operations() async throws -> [[String: Any]] {
        let result = try await send("GET", "\(info.adminURL)/operations", bearer: info.managementToken)
        return (result.json as? [[String: Any]]) ?? []
    }

    func setFaults(_ body: [String: Any]) async throws {
        let result = try await sendJSON("POST", "\(info.adminURL)/faults", bearer: info.managementToken, body)
        #expect(result.status == 200, "set faults failed: \(result.text)")
    }
}

/// y = 3·x1 − 2·x2 + 5 with small deterministic noise.
func linearCSV(rows: Int = 60) -> String {
    var lines = ["x1,x2,y"]
    for i in 0..<rows {
        let x1 = Double(i % 10) + Double(i) * 0.13
        let x2 = Double((i * 7) % 11) - Double(i) * 0.05
        let noise = sin(Double(i) * 12.9898) * 0.01
        lines.append("\(x1),\(x2),\(3 * x1 - 2 * x2 + 5 + noise)")
    }
    return lines.joined(separator: "\n") + "\n"
}
