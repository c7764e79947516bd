import Foundation
import RefitCore

/// An `ActivityRunner` whose outcomes a test scripts: `script(context, callNumber)` per
/// activity call (1-based per window). Records every call in start order, and how many calls
/// of each activity ran at once, so tests can check concurrency caps from the runner's side.
public final class ScriptedRunner: ActivityRunner, @unchecked Sendable {
    // @unchecked: the call records are only touched while holding `lock`.

    /// One call of the runner, as the worker made it.
    public struct Call: Hashable, Sendable {
        public var activity: String
        public var window: Slice
        public var attempt: Int
        public var trigger: RunTrigger
        public var runID: String
    }

    private let lock = NSLock()
    private var calls: [Call] = []
    private var active: [String: Int] = [:]
    private var maximumActive: [String: Int] = [:]
    private let script: @Sendable (AttemptContext, Int) async -> AttemptOutcome

    /// Every call succeeds unless `script` says otherwise.
    public init(_ script: @escaping @Sendable (AttemptContext, Int) async -> AttemptOutcome = { _, _ in .succeeded(AttemptResult()) }) {
        self.script = script
    }

    public func run(_ attempt: AttemptContext) async -> AttemptOutcome {
        let number: Int = lock.withLock {
            calls.append(Call(activity: attempt.activity.name, window: attempt.window, attempt: attempt.attempt,
                              trigger: attempt.trigger, runID: attempt.runID))
            active[attempt.activity.name, default: 0] += 1
            maximumActive[attempt.activity.name] = max(maximumActive[attempt.activity.name] ?? 0, active[attempt.activity.name] ?? 0)
            return calls.filter { $0.activity == attempt.activity.name && $0.window == attempt.window }.count
        }
        let outcome = await script(attempt, number)
        lock.withLock { active[attempt.activity.name, default: 1] -= 1 }
        return outcome
    }

    /// Every call so far, in start order.
    public var recorded: [Call] { lock.withLock { calls } }
    public func calls(_ activity: String) -> [Call] { recorded.filter { $0.activity == activity } }
    /// The most calls of `activity` that were running at the same time.
    public func maximumConcurrent(_ activity: String) -> Int { lock.withLock { maximumActive[activity] ?? 0 } }
}
