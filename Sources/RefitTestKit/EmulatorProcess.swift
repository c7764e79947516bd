import Foundation
import RefitHTTP

/// A running `refit-mlsim` child process, for tests that need the real emulator over loopback
/// (activities, the worker's crash suite) without linking the emulator's server stack.
///
/// It starts the built binary with `--port 0`, reads the JSON line the emulator prints first,
/// and talks to its admin routes. `stop()` (or deinit) ends it: SIGTERM, then SIGKILL after a
/// deadline, so a test never leaves an emulator behind when it finishes normally.
public final class EmulatorProcess: @unchecked Sendable {
    /// Mirror of the emulator's first stdout line (`InstanceInfo` in RefitMLSim), decoded here so
    /// RefitTestKit need not depend on the emulator.
    public struct Info: Decodable, Sendable, Equatable {
        public struct Storage: Decodable, Sendable, Equatable {
            public var accountName: String
            public var accountKey: String
            public var blobEndpoint: String
            public var connectionString: String
            public var sasToken: String
        }
        public struct Training: Decodable, Sendable, Equatable {
            public var webServiceId: String?
            public var serviceId: String?
            /// BES jobs URL, with `?api-version=2.0`.
            public var jobsURL: String
            public var apiKey: String
            public var managementURL: String?
        }
        public struct Endpoint: Decodable, Sendable, Equatable {
            public var name: String
            public var serviceId: String?
            public var apiKey: String
            /// RRS URL, with `?api-version=2.0`.
            public var executeURL: String
            public var managementURL: String
            public var trainedModelName: String
            public var patchable: Bool
        }
        public struct Predictive: Decodable, Sendable, Equatable {
            public var webServiceId: String?
            public var endpoints: [Endpoint]
        }
        public var baseURL: String
        public var workspaceId: String
        public var managementToken: String
        public var adminURL: String
        public var stateDirectory: String?
        public var storage: Storage
        public var training: Training
        public var predictive: Predictive

        /// The predictive endpoint with that name (`default`, `retrain`).
        public func endpoint(_ name: String) -> Endpoint? { predictive.endpoints.first { $0.name == name } }
    }

    /// One line of the emulator's operations log (every mutating call it received).
    public struct Operation: Decodable, Sendable, Equatable {
        /// ISO 8601 time of the call.
        public var at: String
        /// `submit`, `start`, `delete`, `patch`, `score`, `blob-put`, … (see the README).
        public var op: String
        public var method: String
        /// Request path without the query string.
        public var path: String
        /// Status answered; nil when the connection was dropped by an injected fault.
        public var status: Int?
        public var jobId: String?
        public var endpoint: String?
        public var resourceLocation: String?
        /// The injected fault applied to this call, if any.
        public var fault: String?
    }

    /// Why the emulator could not be started or asked something; one sentence.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public let info: Info
    /// The write end of the emulator's stdin (see `--exit-on-stdin-eof`); closed with this object.
    private let stdinWriter: FileHandle
    /// The emulator's process id.
    public let processIdentifier: Int32
    private let process: Process
    private let stderrTail: TailBuffer
    private let http: HTTPClient

    /// Starts the emulator without blocking Swift's cooperative thread pool (the wait for the JSON
    /// line happens on a thread of its own); use this from async tests.
    public static func start(arguments: [String] = [], executable: URL = BuiltProducts.executable("refit-mlsim"),
                             startupDeadline: Duration = .seconds(30)) async throws -> EmulatorProcess {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    continuation.resume(returning: try EmulatorProcess(arguments: arguments, executable: executable,
                                                                       startupDeadline: startupDeadline))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    /// Starts `executable` (the built `refit-mlsim` by default) with `--port 0` and `arguments`,
    /// e.g. `["--job-duration", "0", "--fault", "submit:503:count=1"]`, and waits for its JSON line.
    /// Blocks the calling thread; async callers use ``start(arguments:executable:startupDeadline:)``.
    public init(arguments: [String] = [], executable: URL = BuiltProducts.executable("refit-mlsim"),
                startupDeadline: Duration = .seconds(30)) throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw Failure("The emulator binary \(executable.path) does not exist; build it with `swift build --product refit-mlsim`.")
        }
        let process = Process()
        process.executableURL = executable
        // The emulator exits when its stdin ends: the write end lives in this object and in this
        // process, so it stops even when the test process exits without deinitializing us.
        process.arguments = ["--port", "0", "--exit-on-stdin-eof"] + arguments
        let input = Pipe()
        process.standardInput = input
        self.stdinWriter = input.fileHandleForWriting
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try launchProcess(process)
        self.process = process
        self.processIdentifier = process.processIdentifier
        self.http = HTTPClient(configuration: .init(connectTimeout: .seconds(5), totalTimeout: .seconds(30)))

        // Keep the last lines of stderr for diagnostics; never let either pipe fill up. The blocking
        // reads run on threads of their own: parked on Dispatch's global queues they would starve
        // them (and Swift concurrency's pool, which they back on Linux) while the emulator runs.
        let tail = TailBuffer()
        self.stderrTail = tail
        Thread {
            while true {
                let chunk = readChunk(err.fileHandleForReading)
                if chunk.isEmpty { break }
                tail.append(chunk)
            }
            closeReadEnd(of: err)
        }.start()
        let firstLine = LineBox()
        let ready = DispatchSemaphore(value: 0)
        Thread {
            var buffer = Data()
            var signalled = false
            while true {
                let chunk = readChunk(out.fileHandleForReading)
                if chunk.isEmpty { break }
                if !signalled {
                    buffer.append(chunk)
                    if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        firstLine.set(buffer[buffer.startIndex..<newline])
                        signalled = true
                        ready.signal()
                    }
                }
            }
            if !signalled { ready.signal() }
            closeReadEnd(of: out)
        }.start()
        let seconds = Double(startupDeadline.components.seconds) + Double(startupDeadline.components.attoseconds) / 1e18
        let timedOut = ready.wait(timeout: .now() + seconds) == .timedOut
        guard !timedOut, let line = firstLine.get() else {
            Self.terminate(process, grace: .seconds(2))
            let reason = timedOut ? "printed no JSON line within the startup deadline" : "exited before printing its JSON line"
            throw Failure("refit-mlsim \(reason); stderr ends: \(tail.text.suffix(500))")
        }
        do {
            info = try JSONDecoder().decode(Info.self, from: line)
        } catch {
            Self.terminate(process, grace: .seconds(2))
            throw Failure("refit-mlsim's first stdout line is not the expected instance JSON: \(error)")
        }
    }

    deinit {
        // Never block here (deinit may run on a cooperative thread): SIGTERM now, SIGKILL later if needed.
        guard process.isRunning else { return }
        let process = self.process
        process.terminate()
        DispatchQueue.global().asyncAfter(deadline: .now() + 5) {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// True while the emulator process lives.
    public var isRunning: Bool { process.isRunning }

    /// The emulator's stderr (its log), last few kilobytes, for failure messages.
    public var stderrTailText: String { stderrTail.text }

    /// Stops the emulator: SIGTERM, then SIGKILL when it has not exited after `deadline`.
    /// Blocks until it is gone.
    public func stop(deadline: Duration = .seconds(5)) {
        Self.terminate(process, grace: deadline)
    }

    /// ``stop(deadline:)`` off the cooperative pool, for async callers.
    public func stop(deadline: Duration = .seconds(5)) async {
        let process = self.process
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                Self.terminate(process, grace: deadline)
                continuation.resume()
            }.start()
        }
    }

    /// Sends SIGKILL at once: a crash, as the crash suite needs (no graceful shutdown).
    public func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        ChildExit.wait(for: process, timeout: .seconds(10))
    }

    private static func terminate(_ process: Process, grace: Duration) {
        guard process.isRunning else { return }
        process.terminate()
        if ChildExit.wait(for: process, timeout: grace) == nil {
            kill(process.processIdentifier, SIGKILL)
            ChildExit.wait(for: process, timeout: .seconds(10))
        }
    }

    // MARK: - Admin routes

    /// The operations log: every mutating call received, oldest first.
    public func operations() async throws -> [Operation] {
        let body = try await admin(.get, "operations")
        do {
            return try JSONDecoder().decode([Operation].self, from: body)
        } catch {
            throw Failure("The emulator's operations log is not the expected JSON array: \(error)")
        }
    }

    /// The operations named `op` (e.g. `submit`, `patch`, `delete`).
    public func operations(_ op: String) async throws -> [Operation] {
        try await operations().filter { $0.op == op }
    }

    /// Replaces the injected faults with `json`, the body of `POST /admin/faults`, e.g.
    /// `{"plans":[{"operation":"submit","status":503,"count":1,"retryAfter":2}],"failJobs":1}`.
    public func setFaults(_ json: String) async throws {
        _ = try await admin(.post, "faults", body: Data(json.utf8))
    }

    /// Removes every injected fault.
    public func clearFaults() async throws {
        _ = try await admin(.delete, "faults")
    }

    private func admin(_ method: HTTPMethod, _ name: String, body: Data? = nil) async throws -> Data {
        var headers: HTTPHeaders = ["Authorization": "Bearer \(info.managementToken)"]
        if body != nil { headers.set("Content-Type", "application/json") }
        let response = try await http.execute(HTTPRequest(method: method, url: info.adminURL + "/" + name,
                                                          headers: headers, body: body))
        guard response.isSuccess else {
            throw Failure("The emulator answered \(method) /admin/\(name) with HTTP \(response.status): \(response.text.prefix(300))")
        }
        return response.body
    }
}

/// The last few kilobytes written to a pipe.
private final class TailBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ chunk: Data) {
        lock.lock(); defer { lock.unlock() }
        data.append(chunk)
        if data.count > 16_384 { data = Data(data.suffix(8_192)) }
    }
    var text: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

private final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var line: Data?
    func set(_ value: Data) { lock.lock(); line = Data(value); lock.unlock() }
    func get() -> Data? { lock.lock(); defer { lock.unlock() }; return line }
}
