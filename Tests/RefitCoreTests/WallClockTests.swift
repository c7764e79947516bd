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
