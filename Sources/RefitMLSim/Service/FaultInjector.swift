import Foundation

/// Holds the live fault settings and decides, call by call, which fault applies.
public final class FaultInjector: @unchecked Sendable {
    private let lock = NSLock()
    private var settings: FaultSettings
    private var rng: SeededGenerator

    public init(settings: FaultSettings, seed: UInt64) {
        self.settings = settings
        self.rng = SeededGenerator(seed: seed)
    }

    /// Decides the fault for one call of `operation`, consuming counts.
    public func decide(_ operation: FaultOperation) -> FaultAction {
        lock.withLock {
            guard let index = settings.plans.firstIndex(where: { $0.operation == operation }) else { return .none }
            return settings.plans[index].decide(using: &rng)
        }
    }

    /// Consumes one `failJobs` unit; returns the `Details` text for a job that must fail.
    public func takeJobFailure() -> String? {
        lock.withLock {
            guard settings.failJobs > 0 else { return nil }
            settings.failJobs -= 1
            return settings.failJobsDetails ?? "Module: Train Model; Error: injected failure (fault injection failJobs)."
        }
    }

    /// Merges plans and, when given, replaces the failing-jobs count.
    public func apply(_ update: FaultSettings, replaceFailJobs: Bool) {
        lock.withLock {
            for plan in update.plans { settings.merge(plan) }
            if replaceFailJobs {
                settings.failJobs = update.failJobs
                settings.failJobsDetails = update.failJobsDetails
            }
        }
    }

    public func clear() { lock.withLock { settings = FaultSettings() } }

    public var current: FaultSettings { lock.withLock { settings } }
}
