import Foundation
import Logging
import RefitCore

/// Reruns requested through the worker (tests and embedding programs; the `refit rerun` command
/// goes through the store's operator calls).
extension Worker {
    /// Reruns a window and, with `downstream`, every window that consumes its outputs for the
    /// same period, transitively. Returns the windows reset, as (activity key, window).
    @discardableResult
    public func rerun(pipeline: String, activity: String, windowStart: Instant, downstream: Bool = true,
                      reason: String = "rerun") async throws -> [(ActivityKey, Slice)] {
        let now = clock.now()
        guard let pipelineDef = factory.pipelines[pipeline], let activityDef = pipelineDef.activity(named: activity) else { return [] }
        var queue: [(Pipeline, Activity, Instant)] = [(pipelineDef, activityDef, windowStart)]
        var done: [(ActivityKey, Slice)] = []
        var seen = Set<String>()
        while !queue.isEmpty {
            let (p, a, start) = queue.removeFirst()
            let key = ActivityKey(pipeline: p.name, activity: a.name)
            guard seen.insert("\(key)@\(start.iso8601)").inserted, let record = try await store.window(key, start: start) else { continue }
            if try await store.rerun(key, start: start, budget: budget(for: key), reason: reason, now: now) {
                done.append((key, record.window))
                logger.info("window rerun requested", metadata: metadata(key, record.window))
            }
            guard downstream else { continue }
            for (consumer, consumerActivity) in consumers(of: a) {
                guard let schedule = try? factory.windows(of: consumerActivity, in: consumer) else { continue }
                for window in schedule.windows(from: record.window.start, to: record.window.end) {
                    queue.append((consumer, consumerActivity, window.start))
                }
            }
        }
        wake()
        return done
    }
}
