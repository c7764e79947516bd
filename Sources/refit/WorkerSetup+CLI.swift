import Logging
import RefitCore
import RefitRuntime
import RefitStore
import RefitWorker

/// The worker commands' side of `WorkerSetup`: logging to stderr as text or JSON lines, store
/// failures as one sentence (exit 3), and definitions read through `--schedules`.
extension WorkerSetup {
    static func make(factory: Factory, store: Store, schedulesDirectory: String, maxParallel: Int, logFormat: LogFormat = .text,
                     logLevel: Logger.Level = .info, leaseSeconds: Int64 = 30, heartbeatSeconds: Int64 = 10) throws -> Worker {
        try make(factory: factory, database: .sqlite(store), schedulesDirectory: schedulesDirectory, maxParallel: maxParallel,
                 logFormat: logFormat, logLevel: logLevel, leaseSeconds: leaseSeconds, heartbeatSeconds: heartbeatSeconds)
    }

    static func make(factory: Factory, database: WorkerDatabase, schedulesDirectory: String, maxParallel: Int, logFormat: LogFormat = .text,
                     logLevel: Logger.Level = .info, leaseSeconds: Int64 = 30, heartbeatSeconds: Int64 = 10) throws -> Worker {
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
        do {
            return try makeWorker(factory: factory, database: database, schedulesDirectory: schedulesDirectory, maxParallel: maxParallel,
                                  leaseSeconds: leaseSeconds, heartbeatSeconds: heartbeatSeconds)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
    }

    /// Records each pipeline's definition (file and sha256) and returns the hashes runs name.
    static func recordDefinitions(_ factory: Factory, store: Store) throws -> [String: String] {
        do {
            return try recordDefinitions(factory, database: .sqlite(store))
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
    }

    /// `refit run` on SIGHUP: the definitions of `--schedules` again.
    static func reload(_ worker: Worker, schedules: SchedulesOption, database: WorkerDatabase, logger: Logger) async {
        await reload(worker, load: { try schedules.loadFactory(logFormat: Console.logFormat) }, schedulesDirectory: schedules.schedules,
                     database: database, logger: logger)
    }
}
