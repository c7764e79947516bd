import CoreMetrics
import Foundation
import Prometheus
import RefitCore
import RefitStore

/// Refit's metrics in the Prometheus text exposition format. The libraries record through
/// swift-metrics; `refit run --metrics-address` bootstraps the process's `MetricsSystem` with
/// this registry's factory, and the families derived from the database (windows by state,
/// serving age, history totals) are set from the store, through `MetricsReading`, before each
/// rendering. `refit metrics` renders only the store families. Names, types and labels: README,
/// *Metrics*.
final class MetricsExposition: Sendable {
    enum Name {
        static let windows = "refit_windows"
        static let servingAge = "refit_serving_window_age_seconds"
        static let historyAttempts = "refit_history_attempts"
        static let historyDeployments = "refit_history_deployments"

        static let help = [
            windows: "Activity windows per state, from the database.",
            servingAge: "Seconds from the end of the window whose model an endpoint serves to now.",
            historyAttempts: "Ended attempts in the run history, by outcome.",
            historyDeployments: "Deployments in the run history, by kind.",
        ]
    }

    let registry = PrometheusCollectorRegistry()

    /// The swift-metrics factory over `registry`, with buckets that fit each histogram (attempts
    /// last minutes to hours, a pass or a probe milliseconds to seconds).
    var factory: PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        let minutesToHours: [Duration] = [1, 5, 15, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600, 7_200, 14_400, 43_200, 86_400]
            .map { .seconds($0) }
        let millisecondsToSeconds: [Duration] = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000]
            .map { .milliseconds($0) }
        factory.durationHistogramBuckets = [
            "refit_attempt_duration_seconds": minutesToHours,
            "refit_data_to_submit_seconds": minutesToHours,
            "refit_pass_duration_seconds": millisecondsToSeconds,
            "refit_slice_check_duration_seconds": millisecondsToSeconds,
        ]
        return factory
    }

    /// Makes this registry the process's metrics backend (once per process: `refit run`).
    func bootstrap() {
        MetricsSystem.bootstrap(factory)
    }

    /// Sets the store-derived families from what `metrics` reads (SQLite or PostgreSQL) at
    /// `now`. `definitions` add the zero states of every defined activity; without them (empty)
    /// only what the database holds shows.
    func refresh(reader metrics: any MetricsReading, definitions: Factory, now: Instant) throws {
        // Every defined activity shows every state (0 included), so a state emptied shows 0, not its old count.
        var windows: [String: Int] = [:]
        for pipeline in definitions.pipelines.values {
            for activity in pipeline.activities {
                for state in WindowStatus.allCases { windows[Self.key(pipeline.name, activity.name, state.rawValue)] = 0 }
            }
        }
        for row in try metrics.windowCounts() { windows[Self.key(row.pipeline, row.activity, row.value)] = row.count }
        set(Name.windows, windows, third: "state")

        var attempts: [String: Int] = [:]
        for row in try metrics.runOutcomes() { attempts[Self.key(row.pipeline, row.activity, row.value)] = row.count }
        set(Name.historyAttempts, attempts, third: "outcome")

        var deployments: [String: Int] = [:]
        // A Skipped run is a skipped deployment only for an update activity (known from the definitions).
        for row in try metrics.deploymentCounts() where Self.isUpdate(definitions, row.pipeline, row.activity) || row.value != "skipped" {
            deployments[Self.key(row.pipeline, row.activity, row.value), default: 0] += row.count
        }
        set(Name.historyDeployments, deployments, third: "kind")

        for served in try metrics.servedModels() {
            let end = served.modelWindowEnd ?? served.modelWindowStart
            gauge(Name.servingAge, labels: [("pipeline", served.pipeline), ("activity", served.activity),
                                            ("endpoint", OperatorInput.withoutQuery(served.endpoint))])
                .set(Double(now.secondsSinceEpoch - end.secondsSinceEpoch))
        }
    }

    /// The registry as Prometheus text.
    func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    private func set(_ name: String, _ values: [String: Int], third: String) {
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            gauge(name, labels: [("pipeline", parts[0]), ("activity", parts[1]), (third, parts[2])]).set(Double(value))
        }
    }

    private func gauge(_ name: String, labels: [(String, String)]) -> Prometheus.Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: Name.help[name] ?? ""), labels: labels)
    }

    private static func key(_ pipeline: String, _ activity: String, _ value: String) -> String {
        [pipeline, activity, value].joined(separator: "\u{1F}")
    }

    private static func isUpdate(_ definitions: Factory, _ pipeline: String, _ activity: String) -> Bool {
        guard let activity = definitions.pipelines[pipeline]?.activity(named: activity) else { return false }
        if case .azureMLUpdateResource = activity.kind { return true }
        return false
    }
}
