import Foundation
import Hummingbird
import Logging

/// Runs the Azure ML Studio (classic) emulator on Hummingbird.
public enum MLSimServer {
    /// Runs until cancelled or, with `handleSignals`, until SIGTERM/SIGINT.
    /// `onReady` receives the instance description once the server listens.
    public static func run(configuration: MLSimConfiguration, handleSignals: Bool = false,
                           logger: Logger? = nil,
                           onReady: @escaping @Sendable (InstanceInfo) async -> Void) async throws {
        let seed = configuration.seed ?? UInt64.random(in: 0...UInt64.max)
        let faults = FaultInjector(settings: configuration.faults, seed: seed &+ 1)
        let emulator = try Emulator(configuration: configuration, faults: faults)
        let log = OperationsLog(fileURL: configuration.stateDirectory?.appendingPathComponent("operations.jsonl"))
        let credentials = await emulator.storageCredentials
        let urlHost = Self.urlHost(configuration.host)
        // The one blob implementation: Azure's Blob REST API with Shared Key and SAS, over the account whose
        // key the workspace state keeps, so the connection string survives restarts with `--state`.
        let blobService: BlobService
        do {
            let account = try StorageAccount(name: credentials.name, key: credentials.key, host: urlHost,
                                             port: configuration.port)
            let store = try configuration.stateDirectory.map { try BlobStore(stateDirectory: $0) } ?? BlobStore()
            blobService = BlobService(account: account, store: store)
        } catch let error as BlobError {
            throw BlobAccessError("The blob service cannot start: \(error.message)")
        }
        let responder = MLSimResponder(emulator: emulator, faults: faults, log: log, blobService: blobService,
                                       now: configuration.now)
        // Hummingbird reports routine shutdown cancellation at error level; keep the default logger quiet.
        var configuredLogger = logger ?? Logger(label: "refit-mlsim")
        if logger == nil { configuredLogger.logLevel = .critical }
        let quiet = configuredLogger
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let baseURL = "http://\(urlHost):\(port)"
                blobService.setListeningAddress(host: urlHost, port: port)
                do {
                    try await emulator.attach(baseURL: baseURL, blobs: blobService)
                } catch {
                    quiet.critical("The emulator could not prepare its blob store: \(error)")
                }
                await onReady(await emulator.instanceInfo())
            },
            logger: quiet)
        if handleSignals {
            try await app.runService()
        } else {
            try await app.run()
        }
    }

    /// Starts an emulator in the background and returns once it listens (tests, demos).
    public static func launch(_ configuration: MLSimConfiguration) async throws -> MLSimHandle {
        let (stream, continuation) = AsyncStream<Result<InstanceInfo, any Error>>.makeStream()
        let task = Task {
            do {
                try await run(configuration: configuration) { info in
                    continuation.yield(.success(info))
                }
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        for await outcome in stream {
            return MLSimHandle(info: try outcome.get(), task: task)
        }
        throw BlobAccessError("The emulator stopped before it was ready.")
    }

    static func urlHost(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": return "127.0.0.1"
        case "::": return "[::1]"
        default: return host.contains(":") ? "[\(host)]" : host
        }
    }
}

/// A background emulator started by `MLSimServer.launch`.
public struct MLSimHandle: Sendable {
    /// URLs and keys of the running instance.
    public let info: InstanceInfo
    let task: Task<Void, Never>

    /// Stops the server and waits for it to close.
    public func shutdown() async {
        task.cancel()
        await task.value
    }
}
