import Foundation
import Testing
@testable import RefitCore

@Suite struct WallClockTests {
    @Test("ManualWallClock moves only when told to")
    func manual() {
        let clock = ManualWallClock(at("2017-04-10"))
        #expect(clock.now() == at("2017-04-10"))
        clock.advance(by: .hours(25))
        #expect(clock.now() == at("2017-04-11T01:00:00Z"))
        clock.set(at("2020-01-01"))
        #expect(clock.now() == at("2020-01-01"))
        let injected: any WallClock = clock
        #expect(injected.now() == at("2020-01-01"))
    }

    @Test("SystemWallClock reads the machine's time, after 2024 and before 2200")
    func system() {
        let now = SystemWallClock().now()
        #expect(now > at("2024-01-01") && now < at("2200-01-01"))
    }
}

@Suite(.timeLimit(.minutes(1))) struct WallClockSleepTests {
    /// Waits (in real time, briefly) until `clock` has `count` sleeps waiting.
    func waitForSleepers(_ clock: ManualWallClock, _ count: Int) async throws {
        for _ in 0..<5_000 where clock.sleeperCount != count { try await Task.sleep(for: .milliseconds(1)) }
        #expect(clock.sleeperCount == count)
    }

    @Test("WallInstant converts to whole seconds by truncating down, before the epoch too")
    func wallInstantConversions() {
        #expect(WallInstant(sinceEpoch: .milliseconds(1_999)).instant == Instant(secondsSinceEpoch: 1))
        #expect(WallInstant(sinceEpoch: .milliseconds(-1)).instant == Instant(secondsSinceEpoch: -1))
        #expect(WallInstant(sinceEpoch: .seconds(-2)).instant == Instant(secondsSinceEpoch: -2))
        #expect(WallInstant(at("2017-04-10")).instant == at("2017-04-10"))
        let instant = WallInstant(sinceEpoch: .seconds(1_500_000_000) + .milliseconds(250))
        #expect(instant.date.timeIntervalSince1970 == 1_500_000_000.25)
        #expect(WallInstant(instant.date) == instant)
        #expect(instant.advanced(by: .seconds(1)) - instant == .seconds(1))
        #expect(instant.duration(to: instant + .milliseconds(750)) == .milliseconds(750))
    }

    @Test("ManualWallClock: a sleep returns only once the clock is moved to or past its deadline")
    func manualSleepReturnsAfterAdvance() async throws {
        let clock = ManualWallClock(at("2017-04-10"))
        let deadline = clock.now.advanced(by: .seconds(10))
        let sleeper = Task { try await clock.sleep(until: deadline) }
        try await waitForSleepers(clock, 1)
        clock.advance(by: .seconds(5))
        #expect(clock.sleeperCount == 1, "woken before its deadline")
        clock.advance(by: TimeSpan(seconds: 5))
        try await sleeper.value
        #expect(clock.sleeperCount == 0)
        // A deadline already reached returns at once; `set` wakes as `advance` does.
        try await clock.sleep(until: at("2017-04-10"))
        let later = Task { try await clock.sleep(until: at("2017-04-11")) }
        try await waitForSleepers(clock, 1)
        clock.set(at("2017-04-12"))
        try await later.value
    }

    @Test("ManualWallClock: a canceled sleep throws CancellationError and is forgotten")
    func manualSleepCancellation() async throws {
        let clock = ManualWallClock(at("2017-04-10"))
        let sleeper = Task { try await clock.sleep(until: at("2017-04-11")) }
        try await waitForSleepers(clock, 1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
        // Canceled before it started sleeping: throws too, and registers nothing.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(until: at("2017-04-11"))
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test("SystemWallClock sleeps until the wall clock reaches the deadline, and throws when canceled")
    func systemSleep() async throws {
        let clock = SystemWallClock()
        let deadline = clock.now.advanced(by: .milliseconds(50))
        try await clock.sleep(until: deadline)
        #expect(clock.now >= deadline)
        let sleeper = Task { try await clock.sleep(for: .seconds(30)) }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }

    @Test("deadline(after:) keeps the part of the current second already gone; now() + span does not")
    func deadlineKeepsTheFraction() {
        let start = WallInstant(Instant(year: 2026, month: 1, day: 1)).advanced(by: .milliseconds(900))
        let clock = ManualWallClock(start)
        #expect(clock.deadline(after: TimeSpan(seconds: 1)) == start.advanced(by: .seconds(1)))
        #expect(WallInstant(clock.now() + TimeSpan(seconds: 1)) == start.advanced(by: .milliseconds(100)))
    }
}
