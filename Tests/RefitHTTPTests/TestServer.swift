import Foundation
import Logging
import RefitHTTP
import RefitTestKit

/// The Python test server (Support/test_server.py), started once per test process.
///
/// It serves plain HTTP and, with a freshly made self-signed certificate, HTTPS. The server exits when
/// its stdin reaches EOF, which happens when this process ends, so no test has to stop it and it
/// never outlives a crashed test run.
final class TestServer: @unchecked Sendable {
    struct LaunchError: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    let tlsPort: Int
    /// The self-signed certificate the HTTPS port presents, usable as a CA file.
    let certificateFile: String
    private let process: Process
    private let stdinPipe: Pipe

    static let shared: Result<TestServer, any Error> = Result { try TestServer.launch() }

    static func get() throws -> TestServer { try shared.get() }

    private init(port: Int, tlsPort: Int, certificateFile: String, process: Process, stdinPipe: Pipe) {
        self.port = port
        self.tlsPort = tlsPort
        self.certificateFile = certificateFile
        self.process = process
        self.stdinPipe = stdinPipe
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
    func tlsURL(_ path: String) -> String { "https://127.0.0.1:\(tlsPort)\(path)" }

    private static func launch() throws -> TestServer {
        let python = try executable(named: "python3")
        let openssl = try executable(named: "openssl")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Support/test_server.py").path
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("refit-http-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path

        let certMaker = Process()
        certMaker.executableURL = URL(fileURLWithPath: openssl)
        certMaker.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                               "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        certMaker.standardOutput = FileHandle.nullDevice
        certMaker.standardError = FileHandle.nullDevice
        try launchProcess(certMaker)
        guard ChildExit.wait(for: certMaker, timeout: .seconds(60)) == 0 else {
            throw LaunchError(description: "openssl could not create a test certificate")
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--tls-cert", cert, "--tls-key", key]
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = FileHandle.nullDevice
        try launchProcess(process)

        var output = Data()
        while output.filter({ $0 == UInt8(ascii: "\n") }).count < 2 {
            let chunk = readChunk(stdoutPipe.fileHandleForReading)
            guard !chunk.isEmpty else {
                throw LaunchError(description: "the test server exited before printing its ports")
            }
            output.append(chunk)
        }
        let ports = String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { Int($0) }
        guard ports.count >= 2 else {
            throw LaunchError(description: "the test server printed no usable ports")
        }
        return TestServer(port: ports[0], tlsPort: ports[1], certificateFile: cert, process: process,
                          stdinPipe: stdinPipe)
    }

    private static func executable(named name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw LaunchError(description: "\(name) is not on PATH")
    }
}

/// The JSON the server's /echo route returns.
struct Echo: Decodable {
    let method: String
    let path: String
    let query: String
    let headers: [[String]]
    let body: String
    let bodyLength: Int

    func header(_ name: String) -> String? {
        headers.first { $0.first?.lowercased() == name.lowercased() }?.last
    }
}

/// A client configured for loopback tests (no proxy from the environment).
func makeClient(connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(20), maxRedirects: Int = 5,
                maxResponseBytes: Int = 1_000_000, caFile: String? = nil, logger: Logger? = nil) -> HTTPClient {
    HTTPClient(configuration: .init(connectTimeout: connectTimeout, totalTimeout: totalTimeout,
                                    maxRedirects: maxRedirects, maxResponseBytes: maxResponseBytes,
                                    caFile: caFile, userAgent: "refit-tests", proxy: "", logger: logger))
}

/// Runs `body` and returns the HTTPError it threw, or nil when it returned or threw something else.
func httpError(_ body: () async throws -> HTTPResponse) async -> HTTPError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error as? HTTPError
    }
}

/// Collects log lines so tests can check what reaches logs.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }

    func append(_ line: String) {
        lock.lock()
        storage.append(line)
        lock.unlock()
    }

    var logger: Logger {
        Logger(label: "refit.http.tests") { _ in CapturingLogHandler(capture: self) }
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append("\(event.level) \(event.message) \(merged)")
    }
}
