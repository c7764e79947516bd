import Foundation
import Logging
import RefitCore

/// Readiness, the worker's half: windows come into being as they fall due (materialization), and
/// the input slices of new windows are recorded once (`InputResolver`), after which the store
/// keeps each window's count of missing inputs current as slices become Ready, so a window whose
/// inputs are all Ready is runnable without any pass looking at it again.
extension Worker {
    /// Materializes the windows that came due for every activity of the pipelines not paused.
    func materializeDue(excluding paused: Set<String>, now: Instant) async throws -> Int {
        var materialized = 0
        for (pipeline, activity) in activeActivities(excluding: paused) {
            materialized += try await materialize(pipeline: pipeline, activity: activity, now: now)
        }
        return materialized
    }

    func materialize(pipeline: Pipeline, activity: Activity, now: Instant) async throws -> Int {
        let key = ActivityKey(pipeline: pipeline.name, activity: activity.name)
        let schedule: ActivityWindows
        do { schedule = try factory.windows(of: activity, in: pipeline) } catch {
            logger.error("activity has no windows", metadata: ["pipeline": "\(pipeline.name)", "activity": "\(activity.name)",
                                                               "error": "\(error)"])
            return 0
        }
        let from = try await watermark(key) ?? schedule.activeStart
        let due = schedule.windows(from: from, to: schedule.activeEnd ?? .adfNoEnd, dueBy: now)
        guard !due.isEmpty else { return 0 }
        let batch = due.prefix(configuration.materializationBatch)
        let new = batch.map { window -> NewWindow in
            let dueAt = schedule.dueTime(of: window)
            // Catch-up work (due more than one window ago) is recorded as a backfill.
            let trigger: RunTrigger = dueAt + window.duration <= now ? .backfill : .schedule
            return NewWindow(window: window, dueAt: dueAt, trigger: trigger)
        }
        guard let last = new.last else { return 0 }
        let inserted = try await store.materialize(key, windows: new, until: last.window.end, outputs: activity.outputs,
                                                   definitionSHA256: definitionSHA256(pipeline), budget: budget(for: key), now: now)
        noteWatermark(last.window.end, of: key)
        if inserted > 0 {
            logger.debug("windows materialized", metadata: ["pipeline": "\(key.pipeline)", "activity": "\(key.activity)",
                                                            "count": "\(inserted)"])
        }
        return inserted
    }

    /// Records the input slices of windows whose inputs are not resolved yet (new windows, or
    /// windows of a pipeline whose definition changed), a page at a time, at most one
    /// materialization batch per pass. A page of 250: the windows and their resolved inputs are
    /// held while a page is recorded, and pages of 1,000 were the worker's peak memory on a long
    /// backlog (about 1 MiB above its steady state for a tenth of a second each).
    func resolveInputs(now: Instant) async throws {
        let resolver = InputResolver(factory: factory)
        let page = 250
        var resolved = 0
        while resolved < configuration.materializationBatch {
            let windows = try await store.unresolvedWindows(limit: page)
            guard !windows.isEmpty else { return }
            try await store.recordInputs(windows.map(resolver.inputs(of:)), now: now)
            resolved += windows.count
            if windows.count < page { return }
        }
    }

    func consumers(of activity: Activity) -> [(Pipeline, Activity)] {
        let outputs = Set(activity.outputs)
        return factory.pipelines.keys.sorted().compactMap { factory.pipelines[$0] }.flatMap { pipeline in
            pipeline.activities.filter { consumer in consumer.inputs.contains { outputs.contains($0.name) } }.map { (pipeline, $0) }
        }
    }
}
