import Foundation
import RefitCore
import RefitHTTP
import RefitStorage
import RefitTestKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

let probesHere = SourcePosition(file: "probes-test.json", line: 1, column: 1)

/// yyyy / MM / dd / HH tokens of the slice start, plus a compact `{Stamp}` (yyyyMMddHH).
let probeTokens = [
    PartitionToken(name: "Year", date: .sliceStart, format: "yyyy"),
    PartitionToken(name: "Month", date: .sliceStart, format: "MM"),
    PartitionToken(name: "Day", date: .sliceStart, format: "dd"),
    PartitionToken(name: "Hour", date: .sliceStart, format: "HH"),
    PartitionToken(name: "Stamp", date: .sliceStart, format: "yyyyMMddHH"),
]

func probeDataset(_ kind: Dataset.Kind, service: String = "store", folder: String? = nil, file: String? = nil,
                  bucket: String? = nil, key: String? = nil, marker: String? = nil) -> Dataset {
    Dataset(name: "input", kind: kind, linkedServiceName: service,
            location: .init(folderPath: folder, fileName: file, bucketName: bucket, key: key,
                            partitionedBy: probeTokens, readyMarker: marker),
            availability: Availability(frequency: .hour, interval: 1), external: true, position: probesHere)
}

/// `count` hourly slices from 2026-01-01T00:00Z + `from` hours.
func hourlySlices(_ count: Int, from: Int = 0) -> [Slice] {
    let day = Instant(year: 2026, month: 1, day: 1)
    return (from..<(from + count)).map { Slice(start: day + .hours(Int64($0)), end: day + .hours(Int64($0) + 1)) }
}

/// Counts probe events, for "one listing for many slices" assertions.
final class ProbeEvents: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [ProbeEvent] = []
    var observer: ProbeObserver { { [self] event in lock.lock(); events.append(event); lock.unlock() } }
    var all: [ProbeEvent] { lock.lock(); defer { lock.unlock() }; return events }
    var walks: Int { all.filter { if case .walk = $0 { return true } else { return false } }.count }
    var lists: Int { all.filter { if case .list = $0 { return true } else { return false } }.count }
    var heads: Int { all.filter { if case .head = $0 { return true } else { return false } }.count }
}

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("refit-probes-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func write(_ text: String, to path: String, under root: URL) throws {
    let url = root.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

/// A free loopback TCP port (bound to 0, read back, closed).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError("no socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress -> Bool in
            bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
        }
    }
    guard bound else { throw FixtureError("cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A server process the test started; killed by `stop()` (and on deinit).
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()

    init(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try launchProcess(process)
    }

    /// The first line the server prints on stdout (blocking read, bounded by the server's exit).
    func firstLine() -> String {
        var bytes: [UInt8] = []
        let handle = output.fileHandleForReading
        while true {
            let chunk = handle.readData(ofLength: 1)
            guard let byte = chunk.first, byte != UInt8(ascii: "\n") else { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// SIGTERM, then SIGKILL if it is still running after two seconds (moto's server can ignore SIGTERM).
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
    }

    deinit { stop() }
}

/// A moto S3 server on a free loopback port (`python3 -m moto.server`), non-enforcing signatures.
final class MotoServer: @unchecked Sendable {
    let server: ServerProcess
    let url: String
    let http = HTTPClient(configuration: .init(connectTimeout: .seconds(2), totalTimeout: .seconds(20)))

    /// Starts moto on a free port. The port is free when chosen but another test's server may
    /// take it before moto binds it, so a start counts only when *our* process answers as S3
    /// (a ListAllMyBuckets document); otherwise it is retried on another port.
    init() async throws {
        // A separate client for the readiness poll, so refused connections stay out of the test's client.
        let poller = HTTPClient(configuration: .init(connectTimeout: .seconds(1), totalTimeout: .seconds(2)))
        var tried: [Int] = []
        for _ in 0..<5 {
            let port = try freeLoopbackPort()
            tried.append(port)
            let candidate = try ServerProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                              ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)])
            let address = "http://127.0.0.1:\(port)"
            for _ in 0..<150 where candidate.process.isRunning {
                if let response = try? await poller.execute(HTTPRequest(method: .get, url: address + "/")),
                   response.status == 200, response.text.contains("ListAllMyBucketsResult"), candidate.process.isRunning {
                    server = candidate
                    url = address
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            candidate.stop()
        }
        throw FixtureError("moto did not start on ports \(tried); is `moto[server]` installed (scripts/setup.sh)?")
    }

    func createBucket(_ bucket: String) async throws {
        _ = try await http.send(HTTPRequest(method: .put, url: "\(url)/\(bucket)"))
    }

    func put(_ bucket: String, _ key: String, _ text: String) async throws {
        _ = try await http.send(HTTPRequest(method: .put, url: "\(url)/\(bucket)/\(SigV4.encodePath(key))",
                                            body: Data(text.utf8)))
    }

    func stop() { server.stop() }
}

/// refit-mlsim's blob service on a free loopback port.
final class MLSimServer: @unchecked Sendable {
    let server: ServerProcess
    let account: AzureStorageAccount

    init() throws {
        let binary = BuiltProducts.executable("refit-mlsim")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw FixtureError("\(binary.path) is not built; run `swift build` first")
        }
        server = try ServerProcess(binary, ["--port", "0"])
        let line = server.firstLine()
        guard let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let storage = json["storage"] as? [String: Any],
              let connection = storage["connectionString"] as? String else {
            server.stop()
            throw FixtureError("refit-mlsim printed no storage connection string: \(line)")
        }
        account = try AzureStorageAccount(connectionString: connection)
    }

    func stop() { server.stop() }
}

func md5Hex(_ text: String) -> String? {
    // moto's ETag for a single-part upload is the MD5 of the body; compute it with the system tool.
    let result = try? runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c",
        "import hashlib,sys; print(hashlib.md5(sys.argv[1].encode()).hexdigest())", text])
    return result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}
