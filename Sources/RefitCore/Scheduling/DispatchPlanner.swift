/// Identifies one activity of one pipeline (the unit `policy.concurrency` applies to).
public struct ActivityKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var pipeline: String
    public var activity: String
    public init(pipeline: String, activity: String) { self.pipeline = pipeline; self.activity = activity }
    public static func < (a: ActivityKey, b: ActivityKey) -> Bool { (a.pipeline, a.activity) < (b.pipeline, b.activity) }
    public var description: String { "\(pipeline)/\(activity)" }
}

/// Decides which runnable windows start now: per activity at most `policy.concurrency` running
/// (docs/SEMANTICS.md §4), in `executionPriorityOrder` (operator priority first), and at most
/// `maxParallel` across the worker; activities share the free global slots round-robin so one
/// big backfill cannot starve the others. Pure: the shell claims what it returns.
public struct DispatchPlanner: Sendable {
    /// A window that may start (Waiting, due, inputs Ready).
    public struct Candidate: Hashable, Sendable {
        public var id: Int64
        public var key: ActivityKey
        public var window: Slice
        /// Higher first (operator reruns); then the activity's priority order.
        public var priority: Int
        public init(id: Int64, key: ActivityKey, window: Slice, priority: Int = 0) {
            self.id = id; self.key = key; self.window = window; self.priority = priority
        }
    }

    public struct Limits: Hashable, Sendable {
        public var concurrency: Int
        public var order: ActivityPolicy.PriorityOrder
        public init(concurrency: Int, order: ActivityPolicy.PriorityOrder) {
            self.concurrency = concurrency; self.order = order
        }
        public init(_ policy: ActivityPolicy) { self.init(concurrency: policy.concurrency, order: policy.executionPriorityOrder) }
    }

    public struct Plan: Hashable, Sendable {
        /// Start these, in this order.
        public var start: [Candidate]
        /// Runnable but over a cap: Waiting/ConcurrencyLimit.
        public var limited: [Candidate]
    }

    public var maxParallel: Int
    public init(maxParallel: Int) { self.maxParallel = max(1, maxParallel) }

    /// - Parameters:
    ///   - running: attempts in progress per activity (any worker: the caps are global).
    ///   - runningHere: attempts this worker runs (what `maxParallel` bounds).
    ///   - limits: per activity; an activity without limits gets ADF's defaults (1, OldestFirst).
    public func plan(candidates: [Candidate], running: [ActivityKey: Int], runningHere: Int,
                     limits: [ActivityKey: Limits]) -> Plan {
        var queues: [ActivityKey: [Candidate]] = [:]
        for candidate in candidates { queues[candidate.key, default: []].append(candidate) }
        var limited: [Candidate] = []
        var ordered: [(ActivityKey, [Candidate])] = []
        for key in queues.keys.sorted() {
            let limit = limits[key] ?? Limits(concurrency: 1, order: .oldestFirst)
            let queue = (queues[key] ?? []).sorted { a, b in
                if a.priority != b.priority { return a.priority > b.priority }
                if a.window != b.window { return limit.order == .oldestFirst ? a.window < b.window : b.window < a.window }
                return a.id < b.id
            }
            let free = max(0, max(1, limit.concurrency) - (running[key] ?? 0))
            ordered.append((key, Array(queue.prefix(free))))
            limited += queue.dropFirst(free)
        }
        var globalFree = max(0, maxParallel - runningHere)
        var start: [Candidate] = []
        var round = 0
        while true {
            var tookAny = false
            for (_, queue) in ordered where round < queue.count {
                if globalFree > 0 {
                    start.append(queue[round]); globalFree -= 1
                } else {
                    limited.append(queue[round])
                }
                tookAny = true
            }
            if !tookAny { break }
            round += 1
        }
        return Plan(start: start, limited: limited)
    }
}
