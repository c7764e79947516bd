import Testing
@testable import RefitCore

/// Dependency periods and input slices (docs/SEMANTICS.md §2.5, §9.3, §10.12).
@Suite struct DependencyResolverTests {
    func dataset(_ frequency: Frequency, _ interval: Int = 1) -> Dataset {
        Dataset(name: "in", kind: .azureBlob, linkedServiceName: "storage", location: .init(folderPath: "c/in"),
                availability: Availability(frequency: frequency, interval: interval), external: true, position: noPosition)
    }

    func input(_ start: String? = nil, _ end: String? = nil) -> Activity.Input {
        Activity.Input(name: "in", startTime: start, endTime: end, position: noPosition)
    }

    @Test("[SE1] a daily window over an hourly input depends on the day's 24 hourly slices")
    func dailyOverHourly() throws {
        let slices = try DependencyResolver.inputSlices(for: slice("2017-04-01", "2017-04-02"), input: input(), dataset: dataset(.hour))
        #expect(slices.count == 24)
        #expect(slices.first == slice("2017-04-01T00:00:00Z", "2017-04-01T01:00:00Z"))
        #expect(slices.last == slice("2017-04-01T23:00:00Z", "2017-04-02T00:00:00Z"))
    }

    @Test("an hourly window over a daily input depends on the one daily slice containing it")
    func hourlyOverDaily() throws {
        let slices = try DependencyResolver.inputSlices(for: slice("2017-04-01T05:00:00Z", "2017-04-01T06:00:00Z"), input: input(), dataset: dataset(.day))
        #expect(Array(slices) == [slice("2017-04-01", "2017-04-02")])
    }

    @Test("[FN1] Example 3: startTime Date.AddDays(SliceStart, -1) / endTime Date.AddDays(SliceEnd, -1) reads the previous day")
    func previousDay() throws {
        let previous = input("Date.AddDays(SliceStart, -1)", "Date.AddDays(SliceEnd, -1)")
        let window = slice("2016-01-02", "2016-01-03")
        let period = try DependencyResolver.dependencyPeriod(for: window, input: previous)
        #expect(period.start == at("2016-01-01") && period.end == at("2016-01-02"))
        #expect(Array(try DependencyResolver.inputSlices(for: window, input: previous, dataset: dataset(.day))) == [slice("2016-01-01", "2016-01-02")])
        let hourly = try DependencyResolver.inputSlices(for: window, input: previous, dataset: dataset(.hour))
        #expect(hourly.count == 24 && hourly.first?.start == at("2016-01-01"))
    }

    @Test("§10.12 [SE1] weekly sample: an empty period (2014-12-28..2014-12-28) uses the single weekly slice containing its start")
    func weeklySampleEmptyPeriod() throws {
        let weekly = input("Date.AddDays(SliceStart, - Date.DayOfWeek(SliceStart))", "Date.AddDays(SliceEnd,  -Date.DayOfWeek(SliceEnd))")
        let window = slice("2015-01-01", "2015-01-02")
        let period = try DependencyResolver.dependencyPeriod(for: window, input: weekly)
        #expect(period.start == at("2014-12-28") && period.end == at("2014-12-28"))
        #expect(Array(try DependencyResolver.inputSlices(for: window, input: weekly, dataset: dataset(.week))) == [slice("2014-12-22", "2014-12-29")])
    }

    @Test("§10.12 [SE1] weekly sample on a Saturday gives the Sunday-to-Sunday period: two Monday weeks overlap it")
    func weeklySampleSaturday() throws {
        let weekly = input("Date.AddDays(SliceStart, - Date.DayOfWeek(SliceStart))", "Date.AddDays(SliceEnd,  -Date.DayOfWeek(SliceEnd))")
        let slices = try DependencyResolver.inputSlices(for: slice("2015-01-03", "2015-01-04"), input: weekly, dataset: dataset(.week))
        #expect(Array(slices) == [slice("2014-12-22", "2014-12-29"), slice("2014-12-29", "2015-01-05")])
    }

    @Test("an inverted period also falls back to the slice containing its start")
    func invertedPeriod() throws {
        let inverted = input("Date.AddDays(SliceStart, 1)", "SliceStart")
        #expect(Array(try DependencyResolver.inputSlices(for: slice("2015-01-01", "2015-01-02"), input: inverted, dataset: dataset(.day)))
                == [slice("2015-01-02", "2015-01-03")])
    }

    @Test("only one expression given: the other end of the period stays the window's")
    func oneExpression() throws {
        let p = try DependencyResolver.dependencyPeriod(for: slice("2015-01-02", "2015-01-03"), input: input("Date.AddDays(SliceStart, -1)"))
        #expect(p.start == at("2015-01-01") && p.end == at("2015-01-03"))
    }

    @Test("expression errors name the input and field and keep the column")
    func errors() {
        #expect(throws: DependencyError.self) {
            try DependencyResolver.inputSlices(for: slice("2015-01-01", "2015-01-02"), input: input("Date.AddDays(Slicestart, -1)"), dataset: dataset(.day))
        }
        do {
            _ = try DependencyResolver.dependencyPeriod(for: slice("2015-01-01", "2015-01-02"), input: input(nil, "Date.AddDays(SliceEnd)"))
            Issue.record("expected an error")
        } catch {
            #expect(error.field == .endTime && error.column == 1)
            #expect(error.description == "input in endTime: Date.AddDays expects 2 arguments, got 1")
        }
        let checked = DependencyResolver.check(input("Date.Day(SliceStart)", "Date.Foo(SliceEnd)"))
        #expect(checked.map(\.field) == [.startTime, .endTime])
        #expect(checked.first?.message == "startTime must give a DateTime, but this expression gives an integer")
        #expect(DependencyResolver.check(input("Date.AddDays(SliceStart, -1)", "SliceEnd")).isEmpty)
    }
}
