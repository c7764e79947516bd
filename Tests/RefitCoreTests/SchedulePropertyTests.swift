import Foundation
import Testing
import RefitTestKit
@testable import RefitCore

/// Seeded random checks of the slice grid and the window queries. Each failure prints the seed
/// and case so it can be replayed.
@Suite struct SchedulePropertyTests {
    static let minYear = Instant(year: 1, month: 1, day: 1).secondsSinceEpoch
    static let maxYear = Instant(year: 9999, month: 12, day: 31).secondsSinceEpoch

    func randomAvailability(_ rng: inout SplitMix64) -> Availability {
        let frequency = Frequency.allCases.randomElement(using: &rng) ?? .day
        let interval: Int = switch frequency {
        case .minute: [1, 5, 15, 59, 60, 61, 90, 1440].randomElement(using: &rng) ?? 15
        case .hour: Int.random(in: 1...50, using: &rng)
        case .day: Int.random(in: 1...40, using: &rng)
        case .week: Int.random(in: 1...6, using: &rng)
        case .month: Int.random(in: 1...30, using: &rng)
        }
        let anchor: Instant? = Bool.random(using: &rng) ? nil : Instant(secondsSinceEpoch: Int64.random(in: Self.minYear...Self.maxYear, using: &rng))
        let offset: TimeSpan? = switch Int.random(in: 0..<4, using: &rng) {
        case 0: nil
        case 1: TimeSpan(seconds: Int64.random(in: -90 * 86_400...90 * 86_400, using: &rng))
        case 2: .hours(Int64.random(in: -48...48, using: &rng))
        default: .days(Int64.random(in: 0...31, using: &rng)) + .hours(Int64.random(in: 0...23, using: &rng))
        }
        let style: SliceStyle = Bool.random(using: &rng) ? .startOfInterval : .endOfInterval
        return Availability(frequency: frequency, interval: interval, style: style, anchorDateTime: anchor, offset: offset)
    }

    /// A range whose length is a random number of (roughly) slices, 0 to 60.
    func randomRange(_ rng: inout SplitMix64, _ s: SliceSchedule) -> (Instant, Instant) {
        let approxPeriod = s.fixedPeriod?.seconds ?? Int64(s.interval) * 31 * 86_400
        let start = Int64.random(in: (Self.minYear + 200 * 366 * 86_400)...(Self.maxYear - 200 * 366 * 86_400), using: &rng)
        let length = Int64.random(in: 0...(approxPeriod * 60), using: &rng)
        return (Instant(secondsSinceEpoch: start), Instant(secondsSinceEpoch: start + length))
    }

    func isOnGrid(_ s: SliceSchedule, _ instant: Instant) -> Bool {
        let shifted = instant - s.offset
        if let period = s.fixedPeriod?.seconds {
            return Instant.floorMod(shifted.secondsSinceEpoch - s.anchor.secondsSinceEpoch, period) == 0
        }
        let c = shifted.components
        guard c.day == 1, c.hour == 0, c.minute == 0, c.second == 0 else { return false }
        return Instant.floorMod(shifted.monthIndex() - s.anchor.monthIndex(), Int64(s.interval)) == 0
    }

    @Test("slices are contiguous, non-empty, on the anchor+offset grid, cover the range exactly, and count == enumeration")
    func sliceGrid() throws {
        var rng = SplitMix64(seed: 0x5EED_0001)
        for case_ in 0..<3000 {
            let availability = randomAvailability(&rng)
            let s = try SliceSchedule(availability)
            let (start, end) = randomRange(&rng, s)
            let range = s.slices(overlapping: start, end: end)
            let slices = Array(range)
            let context = "case \(case_): \(availability) [\(start), \(end))"
            #expect(slices.count == s.count(overlapping: start, end: end), "\(context)")
            if start >= end {
                #expect(slices.isEmpty, "\(context)")
                continue
            }
            guard let first = slices.first, let last = slices.last else {
                Issue.record("no slices for a non-empty range: \(context)")
                continue
            }
            #expect(first.start <= start && start < first.end, "\(context)")
            #expect(last.start < end && end <= last.end, "\(context)")
            #expect(range.span == Slice(start: first.start, end: last.end), "\(context)")
            for (a, b) in zip(slices, slices.dropFirst()) where a.end != b.start {
                Issue.record("gap or overlap between \(a) and \(b): \(context)")
            }
            for slice in slices where !(slice.start < slice.end && isOnGrid(s, slice.start) && isOnGrid(s, slice.end)) {
                Issue.record("slice \(slice) is empty or off the grid: \(context)")
            }
            #expect(s.next(after: first) == slices.dropFirst().first ?? s.next(after: first), "\(context)")
            #expect(s.previous(before: s.next(after: first)) == first, "\(context)")
            #expect(slices.allSatisfy { s.isAligned($0) }, "\(context)")
        }
    }

    @Test("slice(containing:) contains the instant, for any instant from year 1 to 9999")
    func containment() throws {
        var rng = SplitMix64(seed: 0x5EED_0002)
        for case_ in 0..<5000 {
            let availability = randomAvailability(&rng)
            let s = try SliceSchedule(availability)
            let t = Instant(secondsSinceEpoch: Int64.random(in: Self.minYear...Self.maxYear, using: &rng))
            let containing = s.slice(containing: t)
            #expect(containing.contains(t), "case \(case_): \(availability) at \(t) gave \(containing)")
            #expect(s.slice(at: s.index(containing: t)) == containing, "case \(case_)")
        }
    }

    @Test("window queries equal brute-force filtering by overlap and due time")
    func windowsMatchBruteForce() throws {
        var rng = SplitMix64(seed: 0x5EED_0003)
        for case_ in 0..<2000 {
            let availability = randomAvailability(&rng)
            let s = try SliceSchedule(availability)
            let (activeStart, activeEnd) = randomRange(&rng, s)
            let delay = TimeSpan(seconds: Int64.random(in: 0...(3 * 86_400), using: &rng))
            let windows = ActivityWindows(schedule: s, activeStart: activeStart, activeEnd: activeEnd, delay: delay)
            // The request lies near the active period so brute force stays small.
            let period = s.fixedPeriod?.seconds ?? Int64(s.interval) * 31 * 86_400
            let from = activeStart + TimeSpan(seconds: Int64.random(in: -20 * period...40 * period, using: &rng))
            let to = from + TimeSpan(seconds: Int64.random(in: -period...(30 * period), using: &rng))
            let nowSeconds = Int64.random(in: min(activeStart.secondsSinceEpoch, from.secondsSinceEpoch) - 86_400 * 40...max(activeEnd.secondsSinceEpoch, to.secondsSinceEpoch) + 86_400 * 40, using: &rng)
            let now = Instant(secondsSinceEpoch: nowSeconds)
            // Superset: everything overlapping either interval, filtered by the definitions.
            let lo = min(activeStart, from), hi = max(activeEnd, to)
            let universe = Array(s.slices(overlapping: lo, end: hi))
            // D3's overlap rule, for non-empty intervals: an empty or inverted interval has no windows.
            let active = universe.filter { activeStart < activeEnd && $0.overlaps(start: activeStart, end: activeEnd) }
            let requested = active.filter { from < to && $0.overlaps(start: from, end: to) }
            let context = "case \(case_): \(availability) active [\(activeStart), \(activeEnd)) request [\(from), \(to)) now \(now)"
            #expect(windows.allWindows.map(Array.init) == active, "\(context)")
            #expect(Array(windows.windows(from: from, to: to)) == requested, "\(context)")
            #expect(Array(windows.windows(dueBy: now)) == active.filter { windows.dueTime(of: $0) <= now }, "\(context)")
            #expect(Array(windows.windows(from: from, to: to, dueBy: now)) == requested.filter { windows.dueTime(of: $0) <= now }, "\(context)")
            let pending = active.first { windows.dueTime(of: $0) > now }
            #expect(windows.nextDue(after: now)?.window == pending, "\(context)")
            for window in active where !windows.contains(window) { Issue.record("contains(\(window)) is false: \(context)") }
        }
    }

    @Test("Month×k with offsets, anchors on the 31st, around the leap years 1900, 2000, 2024, 2100")
    func monthsAndLeapYears() throws {
        for year in [1900, 2000, 2024, 2100] {
            for interval in [1, 2, 3, 5, 12, 13] {
                for anchorDay in [1, 28, 31] {
                    let anchorMonth = [1, 3, 5, 7, 8, 10, 12].first { Instant.daysInMonth(year: Int64(year - 1), month: Int64($0)) >= anchorDay } ?? 1
                    for offset in [TimeSpan.zero, .days(30) + .hours(8), -.hours(6), .days(3) + .hours(8)] {
                        let availability = Availability(frequency: .month, interval: interval,
                                                        anchorDateTime: Instant(year: year - 1, month: anchorMonth, day: anchorDay, hour: 13),
                                                        offset: offset)
                        let s = try SliceSchedule(availability)
                        let slices = Array(s.slices(overlapping: Instant(year: year, month: 1, day: 1), end: Instant(year: year + 1, month: 1, day: 1)))
                        for slice in slices {
                            // Independent month arithmetic: the slice spans exactly `interval` calendar months.
                            let startMonth = (slice.start - offset).components
                            #expect(startMonth.day == 1 && startMonth.hour == 0, "\(availability) \(slice)")
                            var days: Int64 = 0
                            var y = Int64(startMonth.year), m = Int64(startMonth.month)
                            for _ in 0..<interval {
                                days += Instant.daysInMonth(year: y, month: m)
                                m += 1
                                if m == 13 { m = 1; y += 1 }
                            }
                            #expect(slice.duration == .days(days), "\(availability) \(slice)")
                            #expect((s.anchor.monthIndex() - (slice.start - offset).monthIndex()) % Int64(interval) == 0)
                        }
                        let february = Instant(year: year, month: 2, day: 28, hour: 12)
                        #expect(s.slice(containing: february).contains(february))
                    }
                }
            }
        }
        #expect(Instant.daysInMonth(year: 1900, month: 2) == 28)
        #expect(Instant.daysInMonth(year: 2000, month: 2) == 29)
        #expect(Instant.daysInMonth(year: 2024, month: 2) == 29)
        #expect(Instant.daysInMonth(year: 2100, month: 2) == 28)
    }

    @Test("Instant's civil calendar matches Foundation's Gregorian calendar from 1600 to 9999")
    func foundationParity() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        let low = Instant(year: 1600, month: 1, day: 1).secondsSinceEpoch
        var rng = SplitMix64(seed: 0x5EED_0004)
        for _ in 0..<3000 {
            let seconds = Int64.random(in: low...Self.maxYear, using: &rng)
            let instant = Instant(secondsSinceEpoch: seconds)
            let c = instant.components
            let f = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday],
                                            from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect([c.year, c.month, c.day, c.hour, c.minute, c.second, c.weekday + 1]
                    == [f.year, f.month, f.day, f.hour, f.minute, f.second, f.weekday].map { $0 ?? -1 }, "\(seconds)")
            #expect(Instant(year: c.year, month: c.month, day: c.day, hour: c.hour, minute: c.minute, second: c.second) == instant)
            // Foundation clamps multi-year shifts differently from .NET's AddMonths (it turns
            // 3854-05-29 − 27 months into 3852-02-28, though 3852 is a leap year), so it is only
            // the reference within a year; longer shifts are checked against .NET's rule below.
            let months = Int64.random(in: -11...11, using: &rng)
            let far = Int64.random(in: -2400...2400, using: &rng)
            let target = Int64(c.year) * 12 + Int64(c.month - 1) + far
            let (ty, tm) = (Instant.floorDiv(target, 12), Instant.floorMod(target, 12) + 1)
            if ty >= 1 {
                let expected = Instant(year: Int(ty), month: Int(tm), day: min(c.day, Int(Instant.daysInMonth(year: ty, month: tm))),
                                       hour: c.hour, minute: c.minute, second: c.second)
                #expect(instant.addingMonths(far) == expected, "\(instant) + \(far) months")
            }
            if let shifted = calendar.date(byAdding: .month, value: Int(months), to: Date(timeIntervalSince1970: TimeInterval(seconds))),
               shifted.timeIntervalSince1970 >= TimeInterval(low) {
                #expect(instant.addingMonths(months).secondsSinceEpoch == Int64(shifted.timeIntervalSince1970), "\(instant) + \(months) months")
            }
        }
    }
}
