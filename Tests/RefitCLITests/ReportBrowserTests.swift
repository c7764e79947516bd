import Foundation
import Testing
import RefitTestKit

/// `refit report` as a user sees it: a day of the demo's data (scripts/demo.py's drifting hourly
/// slices) retrained and deployed through `refit-mlsim` by `refit tick --once` passes (as the
/// demo runs them), the report opened in
/// headless Chromium (Debian's `chromium`, installed by `make setup`), and its DOM read *after*
/// the page's script ran. A screenshot is taken and kept when the test fails (its path is in the
/// failure); `REFIT_WRITE_SCREENSHOT=path` copies it there (how docs/report.png is made).
/// `REFIT_SKIP_BROWSER=1` skips the test; without it a missing Chromium fails it.
@Suite("refit report in headless Chromium", .timeLimit(.minutes(5)))
struct ReportBrowserTests {
    static let skip = ProcessInfo.processInfo.environment["REFIT_SKIP_BROWSER"] == "1"

    @Test("the demo day's report after scripts ran: one cell per window and slice, every state's colour, one point per evaluated window",
          .disabled(if: skip, "REFIT_SKIP_BROWSER=1"))
    func demoDayInChromium() async throws {
        let chromium = try #require(Self.chromium(), """
            headless Chromium is needed to test the report page: run `make setup` (it installs Debian's chromium package) \
            or set REFIT_SKIP_BROWSER=1 to skip this test.
            """)
        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        var keep = false
        defer { if !keep { folder.remove() } }
        let data = folder.root.appendingPathComponent("data").path
        let writer = try await offPool {
            try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                           ["python3", "-B", "-c", "import sys; sys.path.insert(0, 'scripts'); import demo; demo.DATA = sys.argv[1]; demo.write_slices()", data],
                           currentDirectory: BuiltProducts.packageRoot)
        }
        #expect(writer.exitCode == 0, "demo.write_slices: \(writer.stderr)")
        let environment = try demoEnvironment(emulator.info)
        // One pass at a time, as the demo runs it, so deployments spread over time as they would.
        var done = false
        for _ in 0..<80 where !done {
            let tick = try await refitOffPool("tick", "--once", "--schedules", folder.root.path, "--db", folder.database,
                                              environment: environment)
            try #require(tick.exitCode == 0, "stderr: \(tick.stderr.suffix(600))")
            let listing = try await refitOffPool("slices", "--db", folder.database, "--schedules", folder.root.path,
                                                 "--pipeline", "RetrainPipeline", "--format", "json")
            let windows = try JSONDecoder().decode([SliceRow].self, from: Data(listing.stdout.utf8)).filter { $0.kind == "window" }
            done = windows.count == 48 && windows.allSatisfy { ["Ready", "Skipped"].contains($0.status) }
        }
        #expect(done, "every window of the day Ready or Skipped")

        let page = folder.root.appendingPathComponent("report.html")
        let report = try await refitOffPool("report", "--db", folder.database, "--schedules", folder.root.path, "--out", page.path)
        try #require(report.exitCode == 0, "stderr: \(report.stderr)")

        let profile = folder.root.appendingPathComponent("chromium-profile").path
        let screenshot = folder.root.appendingPathComponent("report.png")
        let common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                      "--hide-scrollbars", "--user-data-dir=\(profile)", "--window-size=1400,2000"]
        let dump = try await offPool {
            try runProcess(chromium, common + ["--dump-dom", page.absoluteString], deadline: .seconds(90))
        }
        let shot = try await offPool {
            try runProcess(chromium, common + ["--screenshot=\(screenshot.path)", page.absoluteString], deadline: .seconds(90))
        }
        let kept = "screenshot kept at \(screenshot.path)"
        var failures = 0
        func check(_ condition: Bool, _ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
            if !condition { failures += 1 }
            #expect(condition, "\(message()) (\(kept))", sourceLocation: sourceLocation)
        }
        defer {
            if failures > 0 {
                keep = true
                print("ReportBrowserTests: \(failures) check(s) failed; \(kept), the page at \(page.path)")
            }
        }
        check(dump.exitCode == 0 && dump.stdout.contains("</html>"), "chromium --dump-dom: exit \(dump.exitCode), \(dump.stderr.suffix(400))")
        check(shot.exitCode == 0 && FileManager.default.fileExists(atPath: screenshot.path), "chromium --screenshot: \(shot.stderr.suffix(400))")
        let dom = ReportDOM(html: dump.stdout)
        check(dom.elements("body").first?["data-report-ready"] == "true", "the page's script ran")
        check(dom.elements("section").first { $0["id"] == "details" }?["hidden"] == "", "no details panel before a click")

        // The database as the read commands show it.
        let listing = try refit("slices", "--db", folder.database, "--schedules", folder.root.path, "--pipeline", "RetrainPipeline",
                                "--format", "json")
        let rows = try JSONDecoder().decode([SliceRow].self, from: Data(listing.stdout.utf8))
        let windows = rows.filter { $0.kind == "window" }, external = rows.filter { $0.kind == "external" }
        check(windows.count == 48 && external.count == 24, "a day of retrain and update windows and their data: \(rows.count) rows")
        check(dom.cells.filter { $0["data-kind"] == "window" }.count == windows.count, "one cell per window: \(dom.cells.count)")
        check(dom.cells.filter { $0["data-kind"] == "slice" }.count == external.count, "one cell per data slice")

        // Every state present has its colour, in the legend and on its cells; the script counted them.
        let legend = dom.elements("li", class: "legend-item")
        for state in Set(rows.map(\.status)) {
            let item = legend.first { $0["data-state"] == state }
            let colour = item?["data-state-colour"] ?? "?"
            let cells = dom.cells.filter { $0["data-state"] == state }
            check(item != nil, "legend item for \(state)")
            check(!cells.isEmpty && cells.allSatisfy { $0["style"] == "background-color:\(colour)" }, "cells of \(state) wear \(colour)")
            check(item?["data-count"] == String(rows.filter { $0.status == state }.count), "the script counted \(state): \(item?["data-count"] ?? "-")")
        }

        // Model quality: one point per evaluated (successfully trained) window, for each metric.
        let history = try JSONDecoder().decode([HistoryRow].self,
                                               from: Data(try refit("history", "--db", folder.database, "--format", "json").stdout.utf8))
        let trained = Set(history.filter { $0.activity == "Retrain" && $0.status == "Succeeded" }.map(\.windowStart))
        check(trained.count == 24, "24 trained windows: \(trained.count)")
        for metric in ["rmse", "r2", "mae"] {
            guard let plot = dom.svg("data-metric", metric) else {
                check(false, "a plot of \(metric)")
                continue
            }
            let points = dom.elements("circle", class: "point", in: plot)
            check(points.count == trained.count && Set(points.compactMap { $0["data-window-start"] }) == trained,
                  "\(metric): \(points.count) points")
        }
        let deployed = history.filter { $0.activity == "UpdateScoringEndpoint" && $0.status == "Succeeded" }
        check(dom.elements("rect", class: "deployment").count == deployed.count, "one timeline bar per deployment")
        check(!dom.html.contains("src=\"http") && !dom.html.contains("href=\"http"), "nothing fetched from the network")

        // A cell's details panel, opened as a click does (through the page's #cell= link): every attempt with its job id.
        if let cell = dom.cells.first(where: { $0["data-activity"] == "Retrain" }), let id = cell["data-id"],
           let start = cell["data-window-start"] {
            let linked = try await offPool {
                try runProcess(chromium, common + ["--dump-dom", page.absoluteString + "#cell=" + id], deadline: .seconds(90))
            }
            let details = ReportDOM(html: linked.stdout)
            let attempts = history.filter { $0.activity == "Retrain" && $0.windowStart == start }
            check(details.elements("section").first { $0["id"] == "details" }?["hidden"] == nil, "the details panel is shown")
            check(details.elements("tr", class: "attempt").count == attempts.count, "one row per attempt of \(start)")
            check(attempts.allSatisfy { $0.externalJobId.map { linked.stdout.contains($0) } ?? true }, "the job ids are shown")
        } else {
            check(false, "a Retrain cell")
        }

        if failures == 0, let target = ProcessInfo.processInfo.environment["REFIT_WRITE_SCREENSHOT"], !target.isEmpty {
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(at: screenshot, to: URL(fileURLWithPath: target))
        }
    }

    /// Debian's `chromium` (or another Chromium build) on PATH, or nil.
    static func chromium() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":").map(String.init) + ["/usr/bin"] {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let candidate = URL(fileURLWithPath: folder).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
        }
        return nil
    }
}
