/// One activity window an operator names.
public struct WindowTarget: Hashable, Sendable {
    public var key: ActivityKey
    public var start: Instant
    public init(key: ActivityKey, start: Instant) { self.key = key; self.start = start }
}

/// Who asks for an operator action and why; both go into the audit event.
public struct OperatorRequest: Hashable, Sendable {
    public var actor: String
    public var reason: String?
    public init(actor: String, reason: String?) { self.actor = actor; self.reason = reason }
}

/// Why an operator action changed nothing. The description is one sentence for the CLI.
public enum OperatorRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    case windowNotFound(WindowTarget)
    case windowRunning(WindowTarget)

    public var description: String {
        switch self {
        case .windowNotFound(let t):
            "No window of \(t.key.pipeline)/\(t.key.activity) starting \(t.start.iso8601) exists yet; nothing was changed."
        case .windowRunning(let t):
            "The window of \(t.key.pipeline)/\(t.key.activity) starting \(t.start.iso8601) is InProgress; nothing was changed "
                + "(wait for it to finish, or stop the worker running it)."
        }
    }
}

/// Which windows of a backfill's range are queued.
public enum BackfillMode: String, Hashable, Sendable, CaseIterable {
    /// Windows not Ready or Skipped (including ones not created yet).
    case missing
    /// Only Failed windows.
    case failed
    /// Every window; Ready and Skipped ones run again.
    case all

    /// Whether a window in `status` (nil: not created yet) belongs to the backfill.
    public func selects(_ status: WindowStatus?) -> Bool {
        switch self {
        case .missing: status != .ready && status != .skipped
        case .failed: status == .failed
        case .all: true
        }
    }
}

/// The order a backfill's windows are claimed in, whatever the activities' `executionPriorityOrder`.
public enum BackfillOrder: String, Hashable, Sendable, CaseIterable {
    case oldestFirst = "OldestFirst", newestFirst = "NewestFirst"

    /// Claim priorities for windows starting at `starts`: graded so the store's
    /// `priority DESC` order gives this order (OldestFirst: the earliest start gets the highest
    /// priority). Every priority is at least 1, so backfill windows go before scheduled work.
    public func priorities(_ starts: [Instant]) -> [Instant: Int] {
        let sorted = Set(starts).sorted()
        var result: [Instant: Int] = [:]
        for (rank, start) in sorted.enumerated() {
            result[start] = self == .oldestFirst ? sorted.count - rank : rank + 1
        }
        return result
    }
}

/// A backfill as asked for.
public struct BackfillRequest: Hashable, Sendable {
    public var pipeline: String
    public var activities: [String]
    public var from: Instant
    public var to: Instant
    public var mode: BackfillMode
    public var order: BackfillOrder
    public var request: OperatorRequest
    public init(pipeline: String, activities: [String], from: Instant, to: Instant, mode: BackfillMode, order: BackfillOrder,
                request: OperatorRequest) {
        self.pipeline = pipeline; self.activities = activities; self.from = from; self.to = to; self.mode = mode
        self.order = order; self.request = request
    }
}

/// One window of a backfill's range, with what creating it needs when it does not exist yet.
public struct BackfillWindow: Hashable, Sendable {
    public var key: ActivityKey
    public var window: Slice
    public var dueAt: Instant
    public var budget: RetryBudget
    public var outputs: [String]
    public var definitionSHA256: String?
    public var priority: Int
    public init(key: ActivityKey, window: Slice, dueAt: Instant, budget: RetryBudget, outputs: [String], definitionSHA256: String?,
                priority: Int) {
        self.key = key; self.window = window; self.dueAt = dueAt; self.budget = budget; self.outputs = outputs
        self.definitionSHA256 = definitionSHA256; self.priority = priority
    }
}

/// Where a backfill's windows are now.
public struct BackfillProgress: Hashable, Sendable {
    public var total: Int
    /// Ready or Skipped.
    public var done: Int
    public var failed: Int
    public var running: Int
    public var waiting: Int
    public init(total: Int, done: Int, failed: Int, running: Int, waiting: Int) {
        self.total = total; self.done = done; self.failed = failed; self.running = running; self.waiting = waiting
    }

    /// Every window is Ready, Skipped or Failed.
    public var isFinished: Bool { done + failed >= total }
}

/// A recorded backfill and its progress.
public struct BackfillRecord: Hashable, Sendable {
    public var id: Int64
    public var backfill: BackfillRequest
    public var createdAt: Instant
    public var progress: BackfillProgress
    public init(id: Int64, backfill: BackfillRequest, createdAt: Instant, progress: BackfillProgress) {
        self.id = id; self.backfill = backfill; self.createdAt = createdAt; self.progress = progress
    }
}
