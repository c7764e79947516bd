import Foundation
import Testing
import RefitTestKit

/// `refit report` against the shared run history (HistoryFixture: three hourly windows, two
/// trained and deployed, hour 2's data slice Failed) and its refusals.
@Suite("refit report", .timeLimit(.minutes(5)))
struct ReportCommandTests {
    @Test("one cell per window and per data slice, a legend colour per state, one point per evaluated window, the failures")
    func structure() async throws {
        let fixture = try await HistoryFixture.shared.value
        let scratch = try ScratchSchedules()
        defer { scratch.remove() }
        let out = scratch.root.appendingPathComponent("report.html").path
        let result = try await refitOffPool("report", "--db", fixture.db, "--schedules", fixture.folder.root.path, "--out", out)
        #expect(result.exitCode == 0 && result.stdout == out + "\n", "stdout: \(result.stdout) stderr: \(result.stderr)")
        let dom = ReportDOM(html: try String(contentsOfFile: out, encoding: .utf8))

        let listing = try refit("slices", "--db", fixture.db, "--schedules", fixture.folder.root.path, "--pipeline", "RetrainPipeline",
                                "--format", "json")
        let rows = try JSONDecoder().decode([SliceRow].self, from: Data(listing.stdout.utf8))
        let windows = rows.filter { $0.kind == "window" }, external = rows.filter { $0.kind == "external" }
        #expect(!windows.isEmpty && !external.isEmpty)
        let windowCells = dom.cells.filter { $0["data-kind"] == "window" }, sliceCells = dom.cells.filter { $0["data-kind"] == "slice" }
        #expect(windowCells.count == windows.count && sliceCells.count == external.count, "cells: \(dom.cells.count), rows: \(rows)")
        #expect(Set(windowCells.map { "\($0["data-activity"] ?? "")@\($0["data-window-start"] ?? "") \($0["data-state"] ?? "")" })
                == Set(windows.map { "\($0.activity ?? "")@\($0.sliceStart) \($0.status)" }))
        #expect(Set(sliceCells.map { "\($0["data-dataset"] ?? "")@\($0["data-window-start"] ?? "") \($0["data-state"] ?? "")" })
                == Set(external.map { "\($0.dataset ?? "")@\($0.sliceStart) \($0.status)" }))

        // Every state in the database has a legend colour of its own, and its cells wear it.
        let legend = dom.elements("li", class: "legend-item")
        let states = Set(rows.map(\.status))
        #expect(states.contains("Failed") && states.contains("Ready"), "the fixture has both: \(states)")
        var colours: Set<String> = []
        for state in states {
            let item = legend.first { $0["data-state"] == state }
            let colour = try #require(item?["data-state-colour"], "legend item for \(state)")
            colours.insert(colour)
            #expect(dom.cells.filter { $0["data-state"] == state }.allSatisfy { $0["style"] == "background-color:\(colour)" })
        }
        #expect(colours.count == states.count, "distinct colours")

        // Model quality: the emulator's evaluation output (RMSE, MAE, R2, Rows), one point per trained window.
        let trained = Set(try fixture.history().filter { $0.activity == "Retrain" && $0.status == "Succeeded" }.map(\.windowStart))
        #expect(trained.count == 2)
        for metric in ["rmse", "mae", "r2"] {
            let plot = try #require(dom.svg("data-metric", metric), "a plot of \(metric)")
            let points = dom.elements("circle", class: "point", in: plot)
            #expect(Set(points.compactMap { $0["data-window-start"] }) == trained && points.count == trained.count, "\(metric): \(points)")
        }
        let deployments = try fixture.history().filter { $0.activity == "UpdateScoringEndpoint" && $0.status == "Succeeded" }
        #expect(dom.elements("rect", class: "deployment").count == deployments.count)
        let latency = try #require(dom.svg("data-plot", "latency"))
        #expect(dom.elements("circle", class: "point", in: latency).count == deployments.count)
        #expect(dom.elements("tr", class: "failure").filter { $0["data-kind"] == "slice" }.count == external.filter { $0.status == "Failed" }.count)
        #expect(!dom.html.contains("sig="), "no SAS token in the page")
    }

    @Test("an unknown pipeline names the known ones; --from after --to, an unwritable --out: one sentence, exit 1")
    func refusals() async throws {
        let fixture = try await HistoryFixture.shared.value
        let scratch = try ScratchSchedules()
        defer { scratch.remove() }
        let out = scratch.root.appendingPathComponent("report.html").path
        expectRefused(try await refitOffPool("report", "--db", fixture.db, "--out", out, "--pipeline", "Nope"),
                      code: 1, containing: "known pipelines: RetrainPipeline.")
        expectRefused(try await refitOffPool("report", "--db", fixture.db, "--out", out, "--from", "2026-01-02", "--to", "2026-01-01"),
                      code: 1, containing: "--from (2026-01-02T00:00:00Z) must be before --to (2026-01-01T00:00:00Z).")
        #expect(!FileManager.default.fileExists(atPath: out), "nothing written on a refusal")
        expectRefused(try await refitOffPool("report", "--db", fixture.db, "--out", "/nonexistent-refit-folder/report.html"),
                      code: 1, containing: "Cannot write the report to '/nonexistent-refit-folder/report.html': No such file or directory.")
        expectRefused(try await refitOffPool("report", "--db", fixture.db, "--out", scratch.root.path),
                      code: 1, containing: "it is a folder.")
        expectRefused(try await refitOffPool("report", "--db", scratch.database, "--out", out), code: 1, containing: "does not exist")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root.path).isEmpty, "no temporary file left behind")
    }

    @Test("a range without windows and a database without windows each get a page saying so (exit 0)")
    func emptyPages() async throws {
        let fixture = try await HistoryFixture.shared.value
        let scratch = try ScratchSchedules.example()
        defer { scratch.remove() }
        let out = scratch.root.appendingPathComponent("range.html").path
        let range = try await refitOffPool("report", "--db", fixture.db, "--out", out, "--from", "2027-01-01", "--to", "2027-01-02")
        #expect(range.exitCode == 0, "stderr: \(range.stderr)")
        let rangePage = try String(contentsOfFile: out, encoding: .utf8)
        #expect(rangePage.contains("data-empty=\"true\"")
                && rangePage.contains("No activity window of any pipeline between 2027-01-01T00:00:00Z and 2027-01-02T00:00:00Z is recorded."))
        #expect(ReportDOM(html: rangePage).cells.isEmpty)

        // A database whose pipeline has not started yet: migrated, no window.
        let pipelinePath = "pipelines/retrain-pipeline.json"
        let pipeline = try String(contentsOf: scratch.root.appendingPathComponent(pipelinePath), encoding: .utf8)
        try scratch.write(pipelinePath, pipeline
            .replacingOccurrences(of: #""start": "2026-01-01T00:00:00Z""#, with: #""start": "2099-01-01T00:00:00Z""#)
            .replacingOccurrences(of: #""end": "2026-01-02T00:00:00Z""#, with: #""end": "2099-01-02T00:00:00Z""#))
        let tick = try await refitOffPool("tick", "--schedules", scratch.root.path, "--db", scratch.database)
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        let emptyOut = scratch.root.appendingPathComponent("empty.html").path
        let empty = try await refitOffPool("report", "--db", scratch.database, "--out", emptyOut, "--format", "json")
        #expect(empty.exitCode == 0, "stderr: \(empty.stderr)")
        #expect(empty.stdout.contains("\"windows\": 0") && empty.stdout.contains("Nothing to show yet"), "stdout: \(empty.stdout)")
        let page = try String(contentsOfFile: emptyOut, encoding: .utf8)
        #expect(page.contains("data-empty=\"true\"") && page.contains("Nothing to show yet") && ReportDOM(html: page).cells.isEmpty)
    }

    @Test("the deployment timeline marks a rollback and the window it made superseded")
    func rollbackAndSuperseded() async throws {
        let fixture = try await OperatorFixture.start(hours: 3, start: "2026-01-01T00:00:00Z", end: "2026-01-01T03:00:00Z")
        defer { fixture.stop() }
        #expect(try await fixture.tick().exitCode == 0)
        let rollback = try await fixture.refitWithDefinitions("rollback", "--pipeline", "RetrainPipeline", "--activity", "UpdateScoringEndpoint",
                                                              "--to", "2026-01-01T01:00:00Z", "--reason", "drift")
        #expect(rollback.exitCode == 0, "stderr: \(rollback.stderr)")
        // The 00:00 update again: a model of a newer window (01:00, rolled back to) serves, so it is superseded.
        let rerun = try await fixture.refitWithDefinitions("rerun", "--pipeline", "RetrainPipeline", "--activity", "UpdateScoringEndpoint",
                                                           "--window", "2026-01-01T00:00:00Z", "--only", "--reason", "again")
        #expect(rerun.exitCode == 0, "stderr: \(rerun.stderr)")
        #expect(try await fixture.tick().exitCode == 0)
        #expect(try await fixture.window("UpdateScoringEndpoint", "2026-01-01T00:00:00Z")?.substatus == "Superseded")

        let out = fixture.folder.root.appendingPathComponent("report.html").path
        let report = try await fixture.refitWithDefinitions("report", "--out", out, "--pipeline", "RetrainPipeline")
        #expect(report.exitCode == 0, "stderr: \(report.stderr)")
        let dom = ReportDOM(html: try String(contentsOfFile: out, encoding: .utf8))
        let bars = dom.elements("rect", class: "deployment")
        let rollbacks = bars.filter { $0["data-rollback"] == "true" }
        #expect(rollbacks.count == 1 && rollbacks.first?["data-window-start"] == "2026-01-01T01:00:00Z"
                && rollbacks.first?["data-serving"] == "true", "bars: \(bars.map(\.attributes))")
        #expect(dom.elements("rect", class: "superseded").contains { $0["data-window-start"] == "2026-01-01T00:00:00Z" })
        #expect(dom.cells.contains { $0["data-activity"] == "UpdateScoringEndpoint" && $0["data-window-start"] == "2026-01-01T00:00:00Z"
                                     && $0["data-state"] == "Skipped" && $0["data-substate"] == "Superseded" })
        let latency = try #require(dom.svg("data-plot", "latency"))
        #expect(dom.elements("circle", class: "point", in: latency).count == bars.count - 1, "rollbacks are left out of the latency")
    }
}
