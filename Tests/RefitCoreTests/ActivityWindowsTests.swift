import Testing
@testable import RefitCore

/// Active periods, windows and due times (docs/SEMANTICS.md §1.3, §3.3, D3, D4).
@Suite struct ActivityWindowsTests {
    func dataset(_ name: String, _ availability: Availability, external: Bool = false) -> Dataset {
        Dataset(name: name, kind: .azureBlob, linkedServiceName: "storage", location: .init(folderPath: "c/\(name)"),
                availability: availability, external: external, position: noPosition)
    }

    func factory(output: Availability, start: String?, end: String?, policy: ActivityPolicy = ActivityPolicy(),
                 scheduler: Availability? = nil) -> (Factory, Activity, Pipeline) {
        let activity = Activity(name: "act", typeName: "AzureMLBatchExecution", kind: .azureMLBatchExecution(.init()),
                                inputs: [], outputs: ["out"], linkedServiceName: "ml", policy: policy,
                                scheduler: scheduler, position: noPosition)
        let pipeline = Pipeline(name: "p", activities: [activity], start: start.map { at($0) }, end: end.map { at($0) },
                                position: noPosition)
        let factory = Factory(datasets: ["out": dataset("out", output)], pipelines: ["p": pipeline])
        return (factory, activity, pipeline)
    }

    func windows(_ output: Availability, _ start: String?, _ end: String?, policy: ActivityPolicy = ActivityPolicy()) throws -> ActivityWindows {
        let (f, a, p) = factory(output: output, start: start, end: end, policy: policy)
        return try ActivityWindows(activity: a, pipeline: p, factory: f)
    }

    let hourly = Availability(frequency: .hour, interval: 1)
    let daily = Availability(frequency: .day, interval: 1)

    @Test("[DS1] hourly, active 2016-08-25T00:00Z–05:00Z → five slices (12 AM–1 AM … 4 AM–5 AM)")
    func fiveHourlySlices() throws {
        let w = try windows(hourly, "2016-08-25T00:00:00Z", "2016-08-25T05:00:00Z")
        let all = try #require(w.allWindows)
        #expect(Array(all) == (0..<5).map { h in
            Slice(start: at("2016-08-25T00:00:00Z") + .hours(Int64(h)), end: at("2016-08-25T00:00:00Z") + .hours(Int64(h + 1)))
        })
    }

    @Test("[SE1] hourly, active 2017-04-01T08:00Z–11:00Z → three windows (8–9, 9–10, 10–11)")
    func threeHourlyWindows() throws {
        let w = try windows(hourly, "2017-04-01T08:00:00Z", "2017-04-01T11:00:00Z")
        #expect(w.allWindows.map(Array.init) == [slice("2017-04-01T08:00:00Z", "2017-04-01T09:00:00Z"),
                                                 slice("2017-04-01T09:00:00Z", "2017-04-01T10:00:00Z"),
                                                 slice("2017-04-01T10:00:00Z", "2017-04-01T11:00:00Z")])
    }

    @Test("[TUT2] hourly over a one-day active period → 24 slices, 12 AM to 12 AM next day")
    func oneDayHourly() throws {
        let w = try windows(hourly, "2017-04-01", "2017-04-02")
        let all = try #require(w.allWindows)
        #expect(all.count == 24)
        #expect(all.first == slice("2017-04-01T00:00:00Z", "2017-04-01T01:00:00Z"))
        #expect(all.last == slice("2017-04-01T23:00:00Z", "2017-04-02T00:00:00Z"))
    }

    @Test("[TUT2][BE1] an omitted end is start + 48 hours")
    func omittedEnd() throws {
        let w = try windows(daily, "2017-04-01", nil)
        #expect(w.allWindows.map(Array.init) == [slice("2017-04-01", "2017-04-02"), slice("2017-04-02", "2017-04-03")])
    }

    @Test("[PL1] end 9999-09-09 means no end; windows then come only from dueBy")
    func noEnd() throws {
        let w = try windows(daily, "2017-04-01", "9999-09-09")
        #expect(w.activeEnd == nil)
        #expect(w.allWindows == nil)
        #expect(w.windows(dueBy: at("2017-04-04T12:00:00Z")).count == 3)
    }

    @Test("[SE1] backfill: start 2017-04-01, now 2017-04-10 → 04-01..04-09 are due; 04-10 is not (EndOfInterval)")
    func backfillSE1() throws {
        let w = try windows(daily, "2017-04-01", "9999-09-09")
        for now in ["2017-04-10T00:00:00Z", "2017-04-10T13:45:00Z", "2017-04-10T23:59:59Z"] {
            let due = w.windows(dueBy: at(now))
            #expect(due.count == 9)
            #expect(due.first == slice("2017-04-01", "2017-04-02"))
            #expect(due.last == slice("2017-04-09", "2017-04-10"))
            let pending = try #require(w.nextDue(after: at(now)))
            #expect(pending.window == slice("2017-04-10", "2017-04-11"))
            #expect(pending.due == at("2017-04-11"))
        }
    }

    @Test("D4: StartOfInterval windows are due at their start; policy.delay postpones both styles")
    func dueTimes() throws {
        let startStyle = try windows(Availability(frequency: .day, interval: 1, style: .startOfInterval), "2017-04-01", "2017-04-05")
        #expect(startStyle.dueTime(of: slice("2017-04-02", "2017-04-03")) == at("2017-04-02"))
        #expect(startStyle.windows(dueBy: at("2017-04-02")).count == 2)

        let delayed = try windows(daily, "2017-04-01", "2017-04-05", policy: ActivityPolicy(delay: .hours(2)))
        #expect(delayed.dueTime(of: slice("2017-04-01", "2017-04-02")) == at("2017-04-02T02:00:00Z"))
        #expect(delayed.windows(dueBy: at("2017-04-02T01:59:59Z")).count == 0)
        #expect(delayed.windows(dueBy: at("2017-04-02T02:00:00Z")).count == 1)
        #expect(delayed.isDue(slice("2017-04-01", "2017-04-02"), at: at("2017-04-02T02:00:00Z")))
        // Everything due once the active period is over: dueBy never goes past the end.
        #expect(delayed.windows(dueBy: at("2030-01-01")).count == 4)
        #expect(delayed.nextDue(after: at("2030-01-01")) == nil)
    }

    @Test("[UR1] weekly datasets with a one-day active period (2016-02-13..14) produce the overlapping week")
    func weeklyOneDayActivePeriod() throws {
        let w = try windows(Availability(frequency: .week, interval: 1), "2016-02-13T00:00:00Z", "2016-02-14T00:00:00Z")
        #expect(w.allWindows.map(Array.init) == [slice("2016-02-08", "2016-02-15")])
        // EndOfInterval: the week is due when it ends.
        #expect(w.windows(dueBy: at("2016-02-14T12:00:00Z")).isEmpty)
        #expect(w.windows(dueBy: at("2016-02-15")).count == 1)
    }

    @Test("[TUT1] monthly output with a one-day active period produces the month")
    func monthlyOneDay() throws {
        let w = try windows(Availability(frequency: .month, interval: 1), "2017-07-01T00:00:00Z", "2017-07-02T00:00:00Z")
        #expect(w.allWindows.map(Array.init) == [slice("2017-07-01", "2017-08-01")])
    }

    @Test("[SE1] a daily scheduler over a 3-hour active period produces the overlapping day")
    func dailyThreeHours() throws {
        let w = try windows(daily, "2017-04-01T08:00:00Z", "2017-04-01T11:00:00Z")
        #expect(w.allWindows.map(Array.init) == [slice("2017-04-01", "2017-04-02")])
    }

    @Test("a requested [from, to) narrows the windows with overlap semantics")
    func requestedRange() throws {
        let w = try windows(daily, "2017-04-01", "2017-04-10")
        #expect(Array(w.windows(from: at("2017-04-03T12:00:00Z"), to: at("2017-04-05T00:00:01Z")))
                == [slice("2017-04-03", "2017-04-04"), slice("2017-04-04", "2017-04-05"), slice("2017-04-05", "2017-04-06")])
        #expect(w.windows(from: at("2017-03-01"), to: at("2017-04-01")).isEmpty)
        #expect(w.windows(from: at("2017-04-10"), to: at("2017-05-01")).isEmpty)
        #expect(w.windows(from: at("2017-03-01"), to: at("2017-05-01")).count == 9)
        #expect(w.windows(from: at("2017-04-05"), to: at("2017-04-05")).isEmpty)
        #expect(w.windows(from: at("2017-03-01"), to: at("2017-05-01"), dueBy: at("2017-04-03T06:00:00Z")).count == 2)
    }

    @Test("scheduler overrides the output dataset; contains() recognises aligned windows in the period")
    func schedulerAndContains() throws {
        let (f, a, p) = factory(output: daily, start: "2017-04-01", end: "2017-04-03", scheduler: hourly)
        let w = try f.windows(of: a, in: p)
        #expect(w.allWindows?.count == 48)
        #expect(w.contains(slice("2017-04-01T05:00:00Z", "2017-04-01T06:00:00Z")))
        #expect(!w.contains(slice("2017-04-01T05:30:00Z", "2017-04-01T06:30:00Z")))
        #expect(!w.contains(slice("2017-04-03T00:00:00Z", "2017-04-03T01:00:00Z")))
    }

    @Test("activities without a schedule or pipelines without a start are reported, not crashed on")
    func errors() throws {
        let (f, a, _) = factory(output: daily, start: nil, end: nil)
        let noStart = Pipeline(name: "p", activities: [a], start: nil, end: nil, position: noPosition)
        #expect(throws: ActivityWindowsError.noActivePeriod(pipeline: "p")) { try ActivityWindows(activity: a, pipeline: noStart, factory: f) }
        var orphan = a
        orphan.outputs = ["missing"]
        #expect(throws: ActivityWindowsError.noSchedule(activity: "act")) { try ActivityWindows(activity: orphan, pipeline: noStart, factory: f) }
        #expect(ActivityWindowsError.noActivePeriod(pipeline: "p").description == "pipeline p has no start, so it has no active period")
    }
}
