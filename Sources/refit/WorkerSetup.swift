import Foundation
import Logging
import RefitCore
import RefitStore
import RefitWorker

/// Builds a `Worker` for `tick` and `run`: definitions, database, the definitions' hashes
/// (recorded in `definitions`, named by every run), logging to stderr.
enum WorkerSetup {
    static func make(factory: Factory, store: Store, maxParallel: Int, logFormat: LogFormat = .text,
                     logLevel: Logger.Level = .info) throws -> Worker {
        LoggingSystem.bootstrap { label in
            switch logFormat {
            case .json:
                return JSONLogHandler(logLevel: logLevel, label: label)
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = logLevel
                return handler
            }
        }
        let now = SystemWallClock().now()
        var hashes: [String: String] = [:]
        let definitions = DefinitionRepository(store)
        for (name, pipeline) in factory.pipelines {
            let text = (try? String(contentsOfFile: pipeline.position.file, encoding: .utf8)) ?? String(reflecting: pipeline)
            let sha = SHA256.hex(text)
            hashes[name] = sha
            let json = "{\"file\": \(JSONOutput.quote(pipeline.position.file)), \"sha256\": \"\(sha)\"}"
            do {
                try definitions.record(kind: "pipeline", name: name, sha256: sha, json: json, now: now)
            } catch let error as StoreError {
                throw CLIFailure.internal(error.message)
            }
        }
        let host = ProcessInfo.processInfo.hostName
        let workerID = "\(host):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
        return Worker(factory: factory, store: store, runner: UnavailableActivityRunner(),
                      locations: UnavailableStorageLocations.location(for:),
                      configuration: WorkerConfiguration(workerID: workerID, maxParallel: maxParallel, definitionSHA256: hashes),
                      logger: Logger(label: "refit.worker"))
    }
}
