import Foundation
import RefitCore
import Testing
@testable import RefitReport

/// The report page as a pure function of a snapshot: structure, hooks, escaping, empty pages.
@Suite("report page rendering")
struct ReportPageTests {
    static let start = Instant(year: 2026, month: 1, day: 1)

    static func hour(_ h: Int) -> Slice { Slice(start: start + TimeSpan(seconds: Int64(h) * 3600), end: start + TimeSpan(seconds: Int64(h + 1) * 3600)) }

    /// Three hours: Retrain Ready, Ready, Failed (a hostile error message); Update Ready, Skipped/Superseded, Waiting.
    static func snapshot(hostile: String = "<script>alert(1)</script> & \"quoted\" </script><!--") -> HistorySnapshot {
        var windows: [HistorySnapshot.Window] = []
        var runs: [HistorySnapshot.Run] = []
        let states = [("Ready", nil), ("Ready", nil), ("Failed", nil)] as [(String, String?)]
        for (h, state) in states.enumerated() {
            windows.append(.init(id: Int64(h + 1), pipeline: "P", activity: "Retrain", window: hour(h), state: state.0, substate: state.1,
                                 attempts: 1, updatedAt: hour(h).end))
            runs.append(.init(runID: "r\(h)", windowID: Int64(h + 1), pipeline: "P", activity: "Retrain", windowStart: hour(h).start,
                              attempt: 1, trigger: "schedule", status: state.0 == "Ready" ? "Succeeded" : "Failed", substatus: nil,
                              startedAt: hour(h).end, endedAt: hour(h).end + TimeSpan(seconds: 5), errorClass: state.0 == "Ready" ? nil : "terminal",
                              errorMessage: state.0 == "Ready" ? nil : hostile, externalJobID: "job-\(h)"))
        }
        let updates = [("Ready", nil), ("Skipped", "Superseded"), ("Waiting", nil)] as [(String, String?)]
        for (h, state) in updates.enumerated() {
            windows.append(.init(id: Int64(h + 11), pipeline: "P", activity: "Update", window: hour(h), state: state.0, substate: state.1,
                                 attempts: state.0 == "Waiting" ? 0 : 1, updatedAt: hour(h).end))
        }
        let slices = (0..<3).map { h in
            HistorySnapshot.DataSlice(id: Int64(h + 21), dataset: "Training", slice: hour(h), state: "Ready", substate: nil, checkCount: 1,
                                      message: nil, updatedAt: hour(h).end, landedAt: hour(h).end)
        }
        let deployments = [
            HistorySnapshot.Deployment(id: 1, endpoint: "https://ml.example/ep?sig=SECRET", modelLocation: "https://blob/m0?sig=SECRET",
                                       modelWindowStart: hour(0).start, pipeline: "P", activity: "Update", runID: "u0",
                                       deployedAt: hour(0).end + TimeSpan(seconds: 30), replacedDeploymentID: nil, reason: "schedule",
                                       forced: false, dataReadyAt: hour(0).end),
            HistorySnapshot.Deployment(id: 2, endpoint: "https://ml.example/ep?sig=SECRET", modelLocation: "https://blob/m0?sig=SECRET",
                                       modelWindowStart: hour(0).start, pipeline: "P", activity: "Update", runID: "u9",
                                       deployedAt: hour(2).end, replacedDeploymentID: 1, reason: "rollback", forced: true, dataReadyAt: nil),
        ]
        let evaluations = (0..<2).map { h in
            HistorySnapshot.Evaluation(pipeline: "P", activity: "Retrain", windowStart: hour(h).start, runID: "r\(h)",
                                       evaluatedAt: hour(h).end, metrics: [.init(name: "R2", value: 0.99), .init(name: "RMSE", value: 0.05 * Double(h + 1))])
        }
        return HistorySnapshot(windows: windows, slices: slices, runs: runs, deployments: deployments, evaluations: evaluations)
    }

    static func render(_ snapshot: HistorySnapshot, hasWindows: Bool = true) -> String {
        ReportPage(snapshot: snapshot, scope: .init(source: "refit.sqlite"), generatedAt: start + TimeSpan(seconds: 86400),
                   databaseHasWindows: hasWindows).render()
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test("one cell per window and slice, legend colours match the cells, one point per evaluated window per metric")
    func structure() throws {
        let html = Self.render(Self.snapshot())
        #expect(Self.count("<td class=\"cell\"", in: html) == 9)
        #expect(Self.count("data-kind=\"window\"", in: html) == 6)
        #expect(Self.count("data-kind=\"slice\"", in: html) == 3)
        for state in ["Ready", "Failed", "Skipped", "Waiting"] {
            let colour = StatePalette.colour(state)
            #expect(html.contains("data-state=\"\(state)\" data-state-colour=\"\(colour)\""), "legend for \(state)")
            #expect(html.contains("data-state=\"\(state)\""))
        }
        #expect(Set(StatePalette.known.map(\.colour)).count == StatePalette.known.count, "every state has a colour of its own")
        for metric in ["rmse", "r2"] {
            guard let plot = html.range(of: "data-metric=\"\(metric)\"") else {
                Issue.record("no plot of \(metric)")
                continue
            }
            let body = html[plot.lowerBound...].components(separatedBy: "</svg>")[0]
            #expect(Self.count("<circle class=\"point\"", in: body) == 2, "points of \(metric)")
        }
        #expect(html.contains("data-rollback=\"true\""), "the rollback is marked")
        #expect(html.contains("class=\"superseded\""), "the superseded window is marked")
        #expect(Self.count("<tr class=\"failure\"", in: html) == 1)
    }

    @Test("everything from the database is escaped; SAS queries never reach the page; nothing is fetched")
    func escaping() {
        let html = Self.render(Self.snapshot())
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;"))
        let data = html.components(separatedBy: "<script type=\"application/json\" id=\"refit-data\">")[1]
            .components(separatedBy: "</script>")[0]
        #expect(!data.contains("<"), "the embedded JSON has no '<'")
        #expect(data.contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e \\u0026"))
        #expect(Self.count("<script", in: html) == 2, "only the data block and the inline script")
        #expect(!html.contains("SECRET"))
        #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"))
        #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("@import") && !html.contains("url("))
        #expect(Self.count("http", in: html) == 1 + Self.count("xmlns=\"http://www.w3.org/2000/svg\"", in: html)
                + Self.count("https://ml.example/ep", in: html) + Self.count("https://blob/m0", in: html))
        #expect((try? JSONSerialization.jsonObject(with: Data(data.utf8))) != nil, "the embedded data parses")
    }

    @Test("an empty database and an empty range each get a page that says so")
    func emptyPages() {
        let empty = Self.render(HistorySnapshot(), hasWindows: false)
        #expect(empty.contains("data-empty=\"true\"") && empty.contains("Nothing to show yet"))
        #expect(!empty.contains("class=\"cell\""))
        let range = ReportPage(snapshot: HistorySnapshot(), scope: .init(pipeline: "P", from: Self.start, to: Self.start + TimeSpan(seconds: 60),
                                                                          source: "x"),
                               generatedAt: Self.start, databaseHasWindows: true)
        #expect(range.emptyMessage == "No activity window of pipeline P between 2026-01-01T00:00:00Z and 2026-01-01T00:01:00Z is recorded.")
    }

    @Test("the plot builder: round ticks, degenerate ranges, one circle per point")
    func plotBuilder() {
        let ticks = Plot.niceTicks(0, 1)
        #expect(ticks.count == 6 && ticks.first == 0 && abs(ticks.last! - 1) < 1e-9, "ticks: \(ticks)")
        #expect(Plot.niceTicks(5, 5).count >= 2, "a flat series still gets an axis")
        let r2 = Plot.niceTicks(0.99982, 1.0)
        let labels = r2.map { Plot.label($0, step: r2[1] - r2[0]) }
        #expect(Set(labels).count == labels.count, "distinct labels: \(labels)")
        #expect(Plot.label(0.4, step: 0.2) == "0.4" && Plot.label(40, step: 20) == "40")
        let single = Plot(title: "t", yLabel: "y", series: [.init(name: "s", colour: "#000", points: [.init(x: 100, y: 3, tooltip: "a<b")])])
            .render()
        #expect(Self.count("<circle class=\"point\"", in: single) == 1 && single.contains("a&lt;b"))
        #expect(!single.contains("nan\"") && !single.contains("inf\""), "no NaN or infinite coordinate")
        let none = Plot(title: "t", yLabel: "y", series: []).render()
        #expect(none.contains("No points yet.") && none.hasPrefix("<svg class=\"plot\""))
    }

    @Test("a year of hourly deployments keeps the timeline about 1,600 px tall, one bar each")
    func manyDeployments() throws {
        var snapshot = Self.snapshot()
        snapshot.deployments = (0..<8760).map { (h: Int) -> HistorySnapshot.Deployment in
            let trained = Self.start + TimeSpan(seconds: Int64(h) * 3600)
            let deployed = trained + TimeSpan(seconds: 3600)
            return HistorySnapshot.Deployment(id: Int64(h + 1), endpoint: "https://ml.example/ep", modelLocation: "m\(h)",
                                              modelWindowStart: trained, pipeline: "P", activity: "Update", runID: "u\(h)",
                                              deployedAt: deployed, replacedDeploymentID: nil, reason: "schedule", forced: false,
                                              dataReadyAt: nil)
        }
        let html = Self.render(snapshot)
        let timeline = try #require(html.range(of: "<svg class=\"timeline\""))
        let tag = html[timeline.lowerBound...].prefix { $0 != ">" }
        let height = try #require(tag.components(separatedBy: "height=\"").dropFirst().first?.prefix { $0 != "\"" }).description
        #expect((Int(height) ?? .max) < 1800, "height \(height)")
        #expect(Self.count("<rect class=\"deployment\"", in: html) == 8760)
    }
}
