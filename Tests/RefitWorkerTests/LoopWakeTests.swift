@testable import RefitWorker
import Testing

/// The run loop's wake-ups are never lost (a lost one left an hourly backfill asleep with work
/// runnable, until its next due time).
@Suite("LoopWake")
struct LoopWakeTests {
    @Test("a wake after the sleep ended on its own, before the loop is back, is still seen")
    func wakeBetweenSleeps() async {
        var wake = LoopWake()
        let task = Task<Void, any Error> {}
        wake.sleeping(in: task)
        _ = await task.result          // the sleep ended on its own...
        wake.wake()                    // ...and the wake comes before the loop marks itself awake
        wake.awake()
        #expect(wake.isPending)        // the loop does not start another sleep
        let first = wake.take(), second = wake.take()
        #expect(first)
        #expect(!second)               // taken once
    }

    @Test("a wake during a sleep cancels it; one before any sleep is kept for the next")
    func wakeDuringAndBefore() async {
        var wake = LoopWake()
        wake.wake()
        let before = wake.take()
        #expect(before)
        let task = Task<Void, any Error> { try await Task.sleep(for: .seconds(3_600)) }
        wake.sleeping(in: task)
        wake.wake()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        wake.awake()
        let after = wake.take()
        #expect(after)
    }
}
