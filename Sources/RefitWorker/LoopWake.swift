/// The run loop's sleep and the wake-ups that cut it short (an attempt ending, new data, an
/// operator): a wake is never lost, whether it comes during a sleep, before the first, or
/// between two.
///
/// The loop sleeps in a task of its own and awaits it from the worker actor. A wake that arrives
/// after that task ended on its own, but before the loop is back in the actor, can no longer be
/// heard as a cancel; so a wake always leaves a mark, and the loop looks at it before each sleep.
/// (When the mark was left only while no sleep task existed, such a wake was lost, and the loop
/// slept on until its next due time — an hour away in an hourly backfill.)
struct LoopWake {
    private var pending = false
    private var sleeping: Task<Void, any Error>?

    /// Wakes the loop: cancels the sleep under way and leaves the mark.
    mutating func wake() {
        pending = true
        sleeping?.cancel()
    }

    /// Whether a wake came since the mark was last taken.
    var isPending: Bool { pending }

    /// The loop is about to await `task`, its next sleep.
    mutating func sleeping(in task: Task<Void, any Error>) { sleeping = task }

    /// The loop is back from its sleep, however it ended.
    mutating func awake() { sleeping = nil }

    /// Takes the mark: true when a wake came since it was last taken.
    mutating func take() -> Bool {
        defer { pending = false }
        return pending
    }
}
