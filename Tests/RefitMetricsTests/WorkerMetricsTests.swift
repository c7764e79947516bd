import Foundation
import Logging
import MetricsTestKit
import RefitCore
import RefitTestKit
@testable import RefitWorker
import Testing

/// The worker's instrumentation, recorded into swift-metrics' `TestMetrics` (injected through
/// `WorkerConfiguration.metrics`, so tests running in parallel never share a backend).
@Suite("Worker metrics (TestMetrics, manual clock)", .timeLimit(.minutes(1)))
struct WorkerMetricsTests {
    static let position = SourcePosition(file: "test.json", line: 1, column: 1)

    static func instant(_ text: String) -> Instant {
        guard let instant = Instant.parse(text) else { preconditionFailure("bad test time \(text)") }
        return instant
    }

    /// External hourly data → Retrain (Command) → Model → Update (AzureMLUpdateResource), two hours.
    static func factory() -> Factory {
        func hourly(_ name: String, external: Bool) -> Dataset {
            Dataset(name: name, kind: .fileShare, linkedServiceName: "Files", location: Dataset.Location(folderPath: "data/\(name)"),
                    availability: Availability(frequency: .hour, interval: 1), external: external, externalData: nil, validation: nil,
                    position: position)
        }
        let retrain = Activity(name: "Retrain", typeName: "Command", kind: .command(.init(arguments: ["true"])),
                               inputs: [Activity.Input(name: "Training", position: position)], outputs: ["Model"],
                               linkedServiceName: nil, policy: ActivityPolicy(concurrency: 2, retry: 2), position: position)
        let update = Activity(name: "Update", typeName: "AzureMLUpdateResource", kind: .azureMLUpdateResource(.init(trainedModelName: "m")),
                              inputs: [Activity.Input(name: "Model", position: position)], outputs: ["Deployed"],
                              linkedServiceName: nil, policy: ActivityPolicy(), position: position)
        let datasets = [hourly("Training", external: true), hourly("Model", external: false), hourly("Deployed", external: false)]
        return Factory(datasets: Dictionary(uniqueKeysWithValues: datasets.map { ($0.name, $0) }),
                       pipelines: ["P": Pipeline(name: "P", activities: [retrain, update], start: instant("2026-01-01T00:00:00Z"),
                                                 end: instant("2026-01-01T02:00:00Z"), position: position)])
    }

    @Test("attempts by outcome, retries, durations, deployments by kind, slice checks and passes are counted")
    func workerCounts() async throws {
        let metrics = TestMetrics()
        let clock = ManualWallClock(Self.instant("2026-01-01T03:00:00Z"))
        let location = InMemoryLocation()
        location.write(Slice(start: Self.instant("2026-01-01T00:00:00Z"), end: Self.instant("2026-01-01T01:00:00Z")))
        location.write(Slice(start: Self.instant("2026-01-01T01:00:00Z"), end: Self.instant("2026-01-01T02:00:00Z")))
        // Retrain of hour 0 fails once (retryable), then succeeds; hour 0's update deploys, hour 1's is superseded.
        let runner = ScriptedRunner { context, call in
            switch (context.activity.name, context.window.start.iso8601, context.attempt) {
            case ("Retrain", "2026-01-01T00:00:00Z", 1):
                return .failed(.retryable, message: "transient")
            case ("Update", "2026-01-01T00:00:00Z", _):
                return .succeeded(AttemptResult(deployment: ProducedDeployment(endpoint: "https://aml.example/ep", modelLocation: "m/0",
                                                                               modelWindow: context.window, reason: "schedule")))
            case ("Update", _, _):
                return .skipped(.superseded, reason: "newer")
            default:
                return .succeeded(AttemptResult())
            }
        }
        var logger = Logger(label: "refit.metrics.test")
        logger.logLevel = .critical
        let worker = Worker(factory: Self.factory(), store: InMemorySchedulingStore(), runner: runner, locations: { _ in location },
                            clock: clock,
                            configuration: WorkerConfiguration(workerID: "w1", leaseDuration: .minutes(5), leaseRenewalInterval: .minutes(1),
                                                               metrics: WorkerMetrics(factory: metrics)),
                            logger: logger)
        try await worker.tickUntilIdle()

        let retrain = [("pipeline", "P"), ("activity", "Retrain")], update = [("pipeline", "P"), ("activity", "Update")]
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.attemptsStarted, dimensions: retrain) == 3)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.attemptsStarted, dimensions: update) == 2)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.attemptsFinished, dimensions: retrain + [("outcome", "Failed")]) == 1)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.attemptsFinished, dimensions: retrain + [("outcome", "Succeeded")]) == 2)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.attemptsFinished, dimensions: update + [("outcome", "Succeeded")]) == 1)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.attemptsFinished, dimensions: update + [("outcome", "Skipped")]) == 1)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.retries, dimensions: retrain) == 1)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.deployments, dimensions: update + [("kind", "deploy")]) == 1)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.deployments, dimensions: update + [("kind", "superseded")]) == 1)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.deployments, dimensions: retrain + [("kind", "deploy")]) == 0)
        #expect(try metrics.expectTimer(WorkerMetrics.Name.attemptDuration, retrain).values.count == 3)
        #expect(try metrics.expectTimer(WorkerMetrics.Name.attemptDuration, update).values.count == 2)
        #expect(metrics.counterTotal(label: WorkerMetrics.Name.sliceChecks, dimensions: [("kind", "FileShare"), ("result", "Ready")]) == 2)
        #expect(try metrics.expectTimer(WorkerMetrics.Name.sliceCheckDuration, [("kind", "FileShare")]).values.count >= 1)
        #expect(try metrics.expectTimer(WorkerMetrics.Name.passDuration).values.count >= 2)
        let health = await worker.health
        #expect(health.running == false && health.lastPassEndedAt != nil && health.lastPassError == nil)
    }

    @Test("deployment kinds of update outcomes", arguments: [
        (AttemptOutcome.skipped(.superseded, reason: "newer"), "superseded"),
        (.skipped(nil, reason: "nothing to do"), "skipped"),
        (.failed(.retryable, message: "x"), nil),
    ] as [(AttemptOutcome, String?)])
    func deploymentKinds(outcome: AttemptOutcome, kind: String?) {
        #expect(WorkerMetrics.deploymentKind(outcome) == kind)
    }

    @Test("forced and rollback deployments count under their own kinds")
    func forcedKinds() {
        let window = Slice(start: Self.instant("2026-01-01T00:00:00Z"), end: Self.instant("2026-01-01T01:00:00Z"))
        func deployed(reason: String, forced: Bool) -> AttemptOutcome {
            .succeeded(AttemptResult(deployment: ProducedDeployment(endpoint: "e", modelLocation: "m", modelWindow: window, reason: reason,
                                                                    forced: forced)))
        }
        #expect(WorkerMetrics.deploymentKind(deployed(reason: "schedule", forced: false)) == "deploy")
        #expect(WorkerMetrics.deploymentKind(deployed(reason: "force", forced: true)) == "forced")
        #expect(WorkerMetrics.deploymentKind(deployed(reason: "rollback", forced: true)) == "rollback")
        #expect(WorkerMetrics.deploymentKind(.succeeded(AttemptResult())) == nil)
    }

    @Test("health: running and recent is healthy; stopped, failing or quiet is not")
    func health() {
        let now = ContinuousClock.now
        var health = WorkerHealth()
        #expect(health.unhealthyReason(now: now, staleAfter: .seconds(30)) == "The worker loop is not running.")
        health.running = true
        #expect(health.unhealthyReason(now: now, staleAfter: .seconds(30)) == "The worker loop has not run a pass yet.")
        health.lastBeatAt = now - .seconds(5)
        #expect(health.unhealthyReason(now: now, staleAfter: .seconds(30)) == nil)
        health.lastBeatAt = now - .seconds(31)
        #expect(health.unhealthyReason(now: now, staleAfter: .seconds(30))?.contains("no sign of life for 31 s") == true)
        health.lastBeatAt = now
        health.lastPassError = "database is locked\nbusy"
        #expect(health.unhealthyReason(now: now, staleAfter: .seconds(30)) == "The latest scheduling pass failed: database is locked busy")
        #expect(WorkerHealth.staleAfter(pollInterval: .seconds(1)) == .seconds(30))
        #expect(WorkerHealth.staleAfter(pollInterval: .seconds(20)) == .seconds(60))
    }
}
