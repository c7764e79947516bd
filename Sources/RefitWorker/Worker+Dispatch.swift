import Foundation
import Logging
import RefitCore

/// Dispatch: a page of the best runnable windows per activity, up to the free capacity, planned
/// by `DispatchPlanner` (caps, priority order, round-robin across activities) and claimed.
extension Worker {
    /// Starts what can start now. Reads at most `free slots + 1` windows per activity: the
    /// backlog beyond stays in the store, labelled ConcurrencyLimit a batch at a time.
    func dispatch(now: Instant, paused: Set<String>) async throws -> [StartedAttempt] {
        let runningCounts = try await store.runningCounts()
        let globalFree = max(0, configuration.maxParallel - running.count)
        var runnable: [DispatchPlanner.Candidate] = []
        var limits: [ActivityKey: DispatchPlanner.Limits] = [:]
        var definitions: [ActivityKey: (Pipeline, Activity)] = [:]
        var capped: [CandidateQuery] = []
        for (pipeline, activity) in activeActivities(excluding: paused) {
            guard let schedule = try? factory.windows(of: activity, in: pipeline) else { continue }
            let key = ActivityKey(pipeline: pipeline.name, activity: activity.name)
            let free = max(0, max(1, activity.policy.concurrency) - (runningCounts[key] ?? 0))
            let wanted = min(free, globalFree)
            let query = CandidateQuery(key: key, activeStart: schedule.activeStart, activeEnd: schedule.activeEnd,
                                       order: activity.policy.executionPriorityOrder, limit: wanted + 1)
            guard wanted > 0 else { capped.append(query); continue }
            let found = try await store.candidates(query, now: now)
            if found.count > wanted { capped.append(query) }
            limits[key] = DispatchPlanner.Limits(activity.policy)
            definitions[key] = (pipeline, activity)
            runnable += found.prefix(wanted).map { DispatchPlanner.Candidate(id: $0.id, key: key, window: $0.window, priority: $0.priority) }
        }
        let plan = DispatchPlanner(maxParallel: configuration.maxParallel)
            .plan(candidates: runnable, running: runningCounts, runningHere: running.count, limits: limits)
        var started: [StartedAttempt] = []
        for candidate in plan.start {
            guard let (pipeline, activity) = definitions[candidate.key] else { continue }
            if let attempt = try await start(candidate, pipeline: pipeline, activity: activity, now: now) {
                started.append(attempt)
            }
        }
        // Labels are cosmetic: refresh a capped activity's ConcurrencyLimit labels at most once a
        // second, a batch at a time, so a long backlog costs nothing per pass.
        for query in capped where labelledAt[query.key].map({ now >= $0 + TimeSpan(seconds: 1) }) ?? true {
            labelledAt[query.key] = now
            _ = try await store.labelConcurrencyLimited(query, limit: 500, now: now)
        }
        return started
    }

    /// The pipelines paused now (by an operator or in their definitions), with each change
    /// applied to the labels of their waiting windows once.
    func applyPauses(now: Instant) async throws -> Set<String> {
        let paused = try await pausedPipelines()
        for name in factory.pipelines.keys.sorted() where appliedPause[name] != paused.contains(name) {
            _ = try await store.applyPause(pipeline: name, paused: paused.contains(name), now: now)
            appliedPause[name] = paused.contains(name)
        }
        return paused
    }
}
