import RefitMetricsServer
import RefitWorker
import ServiceLifecycle

/// The worker loop as a swift-service-lifecycle `Service`, run beside the `MetricsServer` in one
/// `ServiceGroup` by `refit run --metrics-address`. It starts no work until the server listens:
/// an address in use ends the group before the first pass.
struct WorkerService: Service {
    let worker: Worker
    let wakeUps: AsyncStream<Void>
    let server: MetricsServer

    func run() async throws {
        guard await server.listening() != nil, !Task.isCancelled else { return }
        let worker = self.worker, wakeUps = self.wakeUps
        await withTaskCancellationHandler {
            await worker.run(wakeUps: wakeUps)
        } onCancel: {
            Task { await worker.stop() }
        }
    }
}
