import Testing
@testable import RefitCore

/// The documented slice-boundary examples of docs/SEMANTICS.md §1.1–§1.2, each citing its source.
@Suite struct SliceScheduleTests {
    @Test("[DS1] Hour×23 anchored 2017-04-19T08:00: the first slice starts at the anchor")
    func hour23Anchored() throws {
        let s = try schedule(.hour, 23, anchor: "2017-04-19T08:00:00")
        #expect(s.slice(containing: at("2017-04-19T08:00:00Z")) == slice("2017-04-19T08:00:00Z", "2017-04-20T07:00:00Z"))
        #expect(s.slice(containing: at("2017-04-19T07:59:59Z")).end == at("2017-04-19T08:00:00Z"))
    }

    @Test("[DS0] Hour×23 anchored 2007-04-19T08:00 (2015 doc, string interval in the original)")
    func hour23Anchored2007() throws {
        let s = try schedule(.hour, 23, anchor: "2007-04-19T08:00:00")
        #expect(s.slice(containing: at("2007-04-19T08:00:00Z")) == slice("2007-04-19T08:00:00Z", "2007-04-20T07:00:00Z"))
    }

    @Test("[BLOG] Hour×18 anchored 2001-01-01T06:00Z has the slice [2017-04-29T18:00, 2017-04-30T12:00)")
    func hour18Blog() throws {
        let s = try schedule(.hour, 18, anchor: "2001-01-01T06:00:00Z")
        let expected = slice("2017-04-29T18:00:00Z", "2017-04-30T12:00:00Z")
        #expect(s.slice(containing: at("2017-04-29T18:00:00Z")) == expected)
        #expect(s.slice(containing: at("2017-04-30T11:59:59Z")) == expected)
        #expect(s.isAligned(expected))
    }

    @Test("[DS1] anchor parts finer than the frequency are ignored (Hour: minutes and seconds)")
    func anchorTruncation() throws {
        let s = try schedule(.hour, 1, anchor: "2017-04-19T08:37:12Z")
        #expect(s.anchor == at("2017-04-19T08:00:00Z"))
        #expect(s.slice(containing: at("2017-04-19T10:30:00Z")) == slice("2017-04-19T10:00:00Z", "2017-04-19T11:00:00Z"))
        #expect(try schedule(.minute, 15, anchor: "2017-04-19T08:37:12Z").anchor == at("2017-04-19T08:37:00Z"))
        #expect(try schedule(.day, 1, anchor: "2017-04-19T08:37:12Z").anchor == at("2017-04-19T00:00:00Z"))
        #expect(try schedule(.month, 1, anchor: "2017-04-19T08:37:12Z").anchor == at("2017-04-01T00:00:00Z"))
    }

    @Test("[DS1] daily slices start at midnight UTC by default")
    func dailyDefault() throws {
        let s = try schedule(.day, 1)
        #expect(s.slice(containing: at("2017-04-19T13:00:00Z")) == slice("2017-04-19", "2017-04-20"))
    }

    @Test("[FAQ][DS0][BLOG] Day×1 offset 06:00:00: daily slices start at 6 AM")
    func dailyOffset() throws {
        let s = try schedule(.day, 1, offset: "06:00:00")
        #expect(s.slice(containing: at("2017-04-19T13:00:00Z")) == slice("2017-04-19T06:00:00Z", "2017-04-20T06:00:00Z"))
        #expect(s.slice(containing: at("2017-04-19T05:59:59Z")) == slice("2017-04-18T06:00:00Z", "2017-04-19T06:00:00Z"))
    }

    @Test("[DS0] Month×12 offset 60.00:00:00: March 2nd in common years, March 1st in leap years")
    func yearlyOffset60Days() throws {
        let s = try schedule(.month, 12, style: .startOfInterval, offset: "60.00:00:00")
        #expect(s.slice(containing: at("2015-06-01")) == slice("2015-03-02", "2016-03-01"))
        #expect(s.slice(containing: at("2016-06-01")) == slice("2016-03-01", "2017-03-02"))
        #expect(s.slice(containing: at("2016-02-29T12:00:00Z")) == slice("2015-03-02", "2016-03-01"))
    }

    @Test("D1 / §10.1 pin: Month×1 offset 3.08:00:00 starts on the 4th at 08:00 (plain addition), not the documented 3rd [DS1]")
    func monthOffsetPlainAddition() throws {
        let s = try schedule(.month, 1, style: .startOfInterval, offset: "3.08:00:00")
        #expect(s.slice(containing: at("2017-05-10")) == slice("2017-05-04T08:00:00Z", "2017-06-04T08:00:00Z"))
        #expect(s.slice(containing: at("2017-05-04T08:00:00Z")).start.components.day == 4)
        #expect(s.slice(containing: at("2017-05-03T08:00:00Z")) == slice("2017-04-04T08:00:00Z", "2017-05-04T08:00:00Z"))
    }

    @Test("D2: weekly slices start Monday 00:00 UTC with the default anchor (0001-01-01 is a Monday)")
    func weeksStartMonday() throws {
        #expect(Instant.dotNetMin.components.weekday == 1)
        let s = try schedule(.week, 1)
        let week = s.slice(containing: at("2016-02-13T00:00:00Z"))  // a Saturday
        #expect(week == slice("2016-02-08", "2016-02-15"))
        #expect(week.start.components.weekday == 1)
    }

    @Test("D2: with an anchor, weekly slices follow the anchor's date with its time dropped")
    func weeksFollowAnchorDate() throws {
        let s = try schedule(.week, 1, anchor: "2016-02-11T15:30:00Z")  // a Thursday
        #expect(s.slice(containing: at("2016-02-13")) == slice("2016-02-11", "2016-02-18"))
        let twoWeeks = try schedule(.week, 2, anchor: "2016-02-11")
        #expect(twoWeeks.slice(containing: at("2016-02-26")) == slice("2016-02-25", "2016-03-10"))
    }

    @Test("TimeSpan [DS1]: 24:00:00 is 24 days, 1.00:00:00 is one day, 1:04:00:00 is 1 day 4 hours")
    func timeSpanDocExamples() {
        #expect(TimeSpan.parse("24:00:00") == .days(24))
        #expect(TimeSpan.parse("1.00:00:00") == .days(1))
        #expect(TimeSpan.parse("1:04:00:00") == .days(1) + .hours(4))
        #expect(TimeSpan.parse("1.04:00:00") == .days(1) + .hours(4))
        #expect(TimeSpan.parse("3.08:00:00") == .days(3) + .hours(8))
    }

    @Test("Month×k anchored on the 31st aligns to the first of the anchor's month")
    func monthAnchor31() throws {
        let s = try schedule(.month, 2, anchor: "2017-01-31T10:00:00Z")
        #expect(s.slice(containing: at("2017-02-28")) == slice("2017-01-01", "2017-03-01"))
        #expect(s.slice(containing: at("2017-03-31")) == slice("2017-03-01", "2017-05-01"))
        #expect(s.slice(containing: at("2016-12-31T23:59:59Z")) == slice("2016-11-01", "2017-01-01"))
    }

    @Test("next, previous and count for a monthly schedule over leap February")
    func monthNavigation() throws {
        let s = try schedule(.month, 1)
        let feb = s.slice(containing: at("2024-02-15"))
        #expect(feb == slice("2024-02-01", "2024-03-01"))
        #expect(feb.duration == .days(29))
        #expect(s.next(after: feb) == slice("2024-03-01", "2024-04-01"))
        #expect(s.previous(before: feb) == slice("2024-01-01", "2024-02-01"))
        #expect(s.count(overlapping: at("2024-01-15"), end: at("2024-03-01")) == 2)
        #expect(s.count(overlapping: at("2024-01-15"), end: at("2024-03-01T00:00:01Z")) == 3)
        #expect(s.count(overlapping: at("2024-03-01"), end: at("2024-03-01")) == 0)
        #expect(s.count(overlapping: at("2024-03-01"), end: at("2024-02-01")) == 0)
    }

    @Test("negative indices: slices before the anchor continue the same grid")
    func negativeIndices() throws {
        let s = try schedule(.hour, 23, anchor: "2017-04-19T08:00:00Z")
        let k = s.index(containing: at("2017-04-18T10:00:00Z"))
        #expect(k < 0)
        #expect(s.slice(at: k) == slice("2017-04-18T09:00:00Z", "2017-04-19T08:00:00Z"))
    }

    @Test("slices(overlapping:) is lazy: counting ten thousand years of minutes is O(1)")
    func hugeRangeIsLazy() throws {
        let s = try schedule(.minute, 1)
        let range = s.slices(overlapping: .dotNetMin, end: at("9999-12-31T23:59:59Z"))
        #expect(range.count == 3_652_059 * 1440)
        #expect(range.count > 1_000_000)
        #expect(range.first == slice("0001-01-01T00:00:00Z", "0001-01-01T00:01:00Z"))
        #expect(range.last == Slice(start: at("9999-12-31T23:59:00Z"), end: at("9999-12-31T23:59:00Z") + .minutes(1)))
    }

    @Test("anchors at year 1 and ends at 9999 do not overflow, for every frequency")
    func extremes() throws {
        for frequency in Frequency.allCases {
            for interval in [1, 7, 1000] {
                let s = try schedule(frequency, interval, offset: "-10675199.00:00:00")
                let range = s.slices(overlapping: .dotNetMin, end: at("9999-09-09"))
                #expect(range.count >= 1)
                #expect(range.first?.contains(.dotNetMin) == true)
                #expect(range.last?.contains(at("9999-09-08T23:59:59Z")) == true)
                _ = s.slice(containing: Instant(secondsSinceEpoch: .max))
                _ = s.slice(containing: Instant(secondsSinceEpoch: .min))
                _ = s.slice(at: .max)
                _ = s.slice(at: .min)
            }
        }
    }

    @Test("invalid availabilities are refused with one sentence, never a crash")
    func invalid() {
        #expect(throws: SliceScheduleError.intervalNotPositive(0)) { try SliceSchedule(Availability(frequency: .day, interval: 0)) }
        #expect(throws: SliceScheduleError.intervalNotPositive(-3)) { try SliceSchedule(Availability(frequency: .hour, interval: -3)) }
        #expect(throws: SliceScheduleError.self) { try SliceSchedule(Availability(frequency: .week, interval: .max)) }
        #expect(throws: SliceScheduleError.self) { try SliceSchedule(Availability(frequency: .month, interval: .max)) }
        #expect(throws: SliceScheduleError.self) {
            try SliceSchedule(Availability(frequency: .day, interval: 1, offset: TimeSpan(seconds: .max)))
        }
        #expect(SliceScheduleError.intervalNotPositive(0).description == "interval must be at least 1, got 0")
    }
}
