import Logging
import RefitMetricsServer
import RefitWorker
import ServiceLifecycle
import UnixSignals

/// `refit run` as swift-service-lifecycle `Service`s in one `ServiceGroup`, whose graceful
/// shutdown signals are SIGTERM and SIGINT: the worker loop, the FileShare folder watchers, the
/// SIGHUP reloads and, with `--metrics-address`, the metrics server. The group shuts services
/// down in reverse order of `RunServices.configurations`: reloads and watchers first, then the
/// worker drains its attempts, and the metrics server (if any) goes last, so a scrape sees the
/// drain.
public enum RunServices {
    public static func configurations(worker: Worker, wakeUps: FileShareWakeUps, server: MetricsServer?,
                               reload: @escaping @Sendable () async -> Void) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let server {
            services.append(.init(service: server, successTerminationBehavior: .cancelGroup, failureTerminationBehavior: .cancelGroup))
        }
        services.append(.init(service: WorkerService(worker: worker, wakeUps: wakeUps.stream, server: server),
                              successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .cancelGroup))
        services.append(.init(service: FolderWatchService(wakeUps: wakeUps)))
        services.append(.init(service: ReloadService(reload: reload)))
        return services
    }
}

/// The worker loop as a `Service`. Graceful shutdown (the first SIGTERM or SIGINT) is
/// `Worker.stop()`: no new claims, running attempts get the grace period. A second SIGINT, or
/// the group's cancellation, is `Worker.stopNow()`. With a metrics server, no work starts until
/// it listens: an address in use ends the group before the first pass.
struct WorkerService: Service {
    let worker: Worker
    let wakeUps: AsyncStream<Void>
    let server: MetricsServer?

    func run() async throws {
        if let server {
            guard await server.listening() != nil, !Task.isCancelled else { return }
        }
        let worker = self.worker, wakeUps = self.wakeUps
        // Counts SIGINTs for as long as the worker runs: the group turns the first into a
        // graceful shutdown (and ignores the next ones), so the second is escalated here.
        let interrupts = await UnixSignalsSequence(trapping: .sigint)
        await withDiscardingTaskGroup { group in
            group.addTask {
                var seen = 0
                for await _ in interrupts {
                    seen += 1
                    if seen >= 2 { await worker.stopNow() }
                }
            }
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    await worker.run(wakeUps: wakeUps)
                } onGracefulShutdown: {
                    Task { await worker.stop() }
                }
            } onCancel: {
                Task { await worker.stopNow() }
            }
            group.cancelAll()
        }
    }
}

/// The FileShare folder watchers as a `Service`: they feed the worker's wake-ups until the group
/// shuts down, then stop.
struct FolderWatchService: Service {
    let wakeUps: FileShareWakeUps

    func run() async throws {
        try? await gracefulShutdown()
        wakeUps.stop()
    }
}

/// SIGHUP reloads the definitions, through the group's signal sequence, until shutdown.
struct ReloadService: Service {
    let reload: @Sendable () async -> Void

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await reload()
        }
    }
}
