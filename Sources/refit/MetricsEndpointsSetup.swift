import Foundation
import RefitCore
import RefitDefinitions
import RefitMetricsServer
import RefitRuntime
import RefitStore
import RefitWorker

/// What `refit run --metrics-address` serves: `/metrics` (the process's registry, with the store
/// families refreshed on each scrape), `/status` (the `refit status --format json` document) and
/// `/healthz` (the worker loop's health, `WorkerHealth.unhealthyReason`). Scrapes read through
/// `scrapes`, a read-only connection of their own (a SQLite file opened read-only, or a second
/// PostgreSQL connection), never the worker's.
enum MetricsEndpointsSetup {
    /// The three endpoints over `exposition`, the running `worker` and the scrapes' database.
    static func make(exposition: MetricsExposition, worker: Worker, scrapes: WorkerDatabase, schedules: SchedulesOption,
                     startupDefinitions: Factory) -> MetricsEndpoints {
        let staleAfter = WorkerHealth.staleAfter(pollInterval: .seconds(worker.configuration.changePollInterval.seconds))
        // The definitions on disk now, as `refit status` reads them; the worker's own when they are invalid.
        let definitions: @Sendable () -> Factory = {
            DefinitionLoader.load(directory: schedules.schedules).factory ?? startupDefinitions
        }
        return MetricsEndpoints(
            metrics: {
                try? exposition.refresh(reader: scrapes.metrics, definitions: definitions(), now: SystemWallClock().now())
                return exposition.render()
            },
            status: {
                let factory = definitions()
                do {
                    let document = try Status.document(factory: factory, pipelines: factory.pipelines.keys.sorted(),
                                                       reader: scrapes.status, now: SystemWallClock().now())
                    return .success(document.render())
                } catch let error as CLIFailure {
                    return .failure(MetricsServerError(message: error.message))
                } catch {
                    return .failure(MetricsServerError(message: "\(error)"))
                }
            },
            unhealthyReason: {
                await worker.health.unhealthyReason(now: .now, staleAfter: staleAfter)
            })
    }
}
