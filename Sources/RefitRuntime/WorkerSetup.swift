import Foundation
import Logging
import RefitCore
import RefitHTTP
import RefitStorage
import RefitStore
import RefitWorker

/// Builds a `Worker` for `tick` and `run`: definitions, database, the definitions' hashes
/// (recorded in `definitions`, named by every run), logging to stderr, the real activities
/// (`ActivitiesRunner`) and storage probes (`StorageLocations`), both sharing one HTTP client.
public enum WorkerSetup {
    /// The worker on `database`. Logging is the caller's to bootstrap (`refit` picks text or
    /// JSON lines). Throws `StoreError` when the definitions cannot be recorded.
    public static func makeWorker(factory: Factory, database: WorkerDatabase, schedulesDirectory: String, maxParallel: Int,
                                  leaseSeconds: Int64 = 30, heartbeatSeconds: Int64 = 10) throws -> Worker {
        let hashes = try recordDefinitions(factory, database: database)
        let workerID = WorkerIdentity.current().description
        let environment = ProcessInfo.processInfo.environment
        let http = Self.http
        let runner = ActivitiesRunner(database: database, http: http, environment: environment, baseDirectory: schedulesDirectory)
        let locations = StorageLocations(factory: factory, environment: environment, baseDirectory: schedulesDirectory, http: http)
        // Say at start which pipelines cannot run for want of which variables (their attempts
        // fail retryably, naming the variable, until it is set).
        let startLogger = Logger(label: "refit.worker")
        for (pipeline, variables) in factory.unsetVariables(environment: environment).sorted(by: { $0.key < $1.key }) {
            startLogger.warning("pipeline \(pipeline) cannot run until these environment variables are set: \(variables.joined(separator: ", "))",
                                metadata: ["pipeline": "\(pipeline)", "variables": "\(variables.joined(separator: ","))"])
        }
        return Worker(factory: factory, store: database.scheduling, runner: runner,
                      locations: locations.resolver,
                      configuration: WorkerConfiguration(workerID: workerID, leaseDuration: TimeSpan(seconds: leaseSeconds),
                                                         leaseRenewalInterval: TimeSpan(seconds: max(1, min(heartbeatSeconds, leaseSeconds / 2))),
                                                         maxParallel: maxParallel, definitionSHA256: hashes),
                      logger: Logger(label: "refit.worker"))
    }
}

extension WorkerSetup {
    /// The one HTTP client of the process (one curl thread, reused connections): the activities
    /// and the storage probes share it, across definition reloads too.
    public static let http = HTTPClient()


    /// Records each pipeline's definition (file and sha256) and returns the hashes runs name.
    public static func recordDefinitions(_ factory: Factory, database: WorkerDatabase) throws -> [String: String] {
        let now = SystemWallClock().now()
        var hashes: [String: String] = [:]
        for (name, pipeline) in factory.pipelines {
            let text = (try? String(contentsOfFile: pipeline.position.file, encoding: .utf8)) ?? String(reflecting: pipeline)
            let sha = SHA256.hex(text)
            hashes[name] = sha
            let json = "{\"file\": \(JSONString.quote(pipeline.position.file)), \"sha256\": \"\(sha)\"}"
            try database.recordDefinition(kind: "pipeline", name: name, sha256: sha, json: json, now: now)
        }
        return hashes
    }

    /// `refit run` on SIGHUP: reads and validates the definitions again and hands them to the
    /// worker. Invalid definitions change nothing: the worker keeps the ones it has, and the
    /// problems go to the log.
    public static func reload(_ worker: Worker, load: () throws -> Factory, schedulesDirectory: String, database: WorkerDatabase,
                              logger: Logger) async {
        let factory: Factory
        do {
            factory = try load()
        } catch {
            logger.error("definitions not reloaded; the worker keeps the previous ones", metadata: ["error": "\(error)"])
            return
        }
        do {
            let hashes = try recordDefinitions(factory, database: database)
            let locations = StorageLocations(factory: factory, environment: ProcessInfo.processInfo.environment,
                                             baseDirectory: schedulesDirectory, http: http)
            await worker.reload(factory: factory, locations: locations.resolver, definitionSHA256: hashes)
        } catch {
            logger.error("definitions not reloaded; the worker keeps the previous ones", metadata: ["error": "\(error)"])
        }
    }
}

/// File system watchers on the FileShare host folders, merged into one wake-up stream for
/// `Worker.run(wakeUps:)`. A folder that is missing or cannot be watched is skipped: the
/// worker's polling still finds its data, only later.
public final class FileShareWakeUps: Sendable {
    public let stream: AsyncStream<Void>
    private let watchers: [FolderWatcher]
    private let forwarders: [Task<Void, Never>]

    public init(factory: Factory, schedulesDirectory: String) {
        var roots = Set<String>()
        for service in factory.linkedServices.values {
            guard case .fileServer(let server) = service.kind else { continue }
            roots.insert(LocalFolderLocation(host: server.host, baseDirectory: schedulesDirectory).root)
        }
        let watchers = roots.sorted().compactMap { try? FolderWatcher(root: $0) }
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.stream = stream
        self.watchers = watchers
        self.forwarders = watchers.map { watcher in
            Task {
                for await _ in watcher.changes { continuation.yield() }
            }
        }
    }

    /// Stops every watcher (their forwarding tasks end with their streams).
    public func stop() {
        watchers.forEach { $0.stop() }
        forwarders.forEach { $0.cancel() }
    }
}
