import Foundation
import Testing
import RefitTestKit

@Suite("refit plan")
struct PlanCommandTests {
    struct Row: Decodable {
        struct Input: Decodable { var dataset: String; var sliceStart: String; var sliceEnd: String }
        var activity: String
        var windowStart: String
        var windowEnd: String
        var dueAt: String
        var inputs: [Input]
    }

    @Test("the example pipeline plans 24 hourly windows per activity on 2026-01-01")
    func examplePlanJSON() throws {
        let result = try refit("plan", "--schedules", "schedules", "--pipeline", "RetrainPipeline",
                               "--from", "2026-01-01", "--to", "2026-01-02", "--format", "json")
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let rows = try JSONDecoder().decode([Row].self, from: Data(result.stdout.utf8))
        #expect(rows.count == 48)
        for activity in ["Retrain", "UpdateScoringEndpoint"] {
            let windows = rows.filter { $0.activity == activity }
            #expect(windows.count == 24)
            for (hour, row) in windows.enumerated() {
                let start = String(format: "2026-01-01T%02d:00:00Z", hour)
                #expect(row.windowStart == start)
                #expect(row.windowEnd == (hour == 23 ? "2026-01-02T00:00:00Z" : String(format: "2026-01-01T%02d:00:00Z", hour + 1)))
                // EndOfInterval (the default) with no delay: due at the window's end.
                #expect(row.dueAt == row.windowEnd)
                #expect(row.inputs.count == 1)
                #expect(row.inputs.first?.sliceStart == start)
            }
        }
        #expect(rows.first { $0.activity == "Retrain" }?.inputs.first?.dataset == "TrainingData")
        #expect(rows.first { $0.activity == "UpdateScoringEndpoint" }?.inputs.first?.dataset == "TrainedModel")
    }

    @Test("without --from/--to the active period is used; the table has a header and one line per window")
    func tableOverActivePeriod() throws {
        let result = try refit("plan", "--schedules", "schedules", "--pipeline", "RetrainPipeline")
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ACTIVITY") == true)
        #expect(lines.count == 49)
    }

    @Test("daily windows over an hourly input depend on 24 slices; a previous-day input expression moves them")
    func dailyOverHourly() throws {
        let scratch = try ScratchSchedules()
        defer { scratch.remove() }
        try scratch.copyExample()
        try scratch.write("datasets/daily-report.json", """
            {"name": "DailyReport", "properties": {"type": "AzureBlob", "linkedServiceName": "DemoStorage",
              "typeProperties": {"folderPath": "reports/x"}, "availability": {"frequency": "Day", "interval": 1}}}
            """)
        try scratch.write("pipelines/daily.json", """
            {"name": "Daily", "properties": {"activities": [{"name": "Summarize", "type": "Command",
               "inputs": [{"name": "TrainingData"},
                          {"name": "TrainingData", "startTime": "Date.AddDays(SliceStart, -1)", "endTime": "Date.AddDays(SliceEnd, -1)"}],
               "outputs": [{"name": "DailyReport"}],
               "typeProperties": {"arguments": ["true"]}}],
             "start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z"}}
            """)
        let result = try refit("plan", "--schedules", scratch.root.path, "--pipeline", "Daily", "--format", "json")
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let rows = try JSONDecoder().decode([Row].self, from: Data(result.stdout.utf8))
        #expect(rows.count == 2)
        let second = try #require(rows.last)
        #expect(second.windowStart == "2026-01-02T00:00:00Z")
        #expect(second.inputs.count == 48)
        #expect(second.inputs.filter { $0.sliceStart.hasPrefix("2026-01-02") }.count == 24)
        #expect(second.inputs.filter { $0.sliceStart.hasPrefix("2026-01-01") }.count == 24)
    }

    @Test("an unbounded or oversized plan is refused with one sentence, exit 1")
    func refusesHugePlans() throws {
        let scratch = try ScratchSchedules()
        defer { scratch.remove() }
        try scratch.copyExample()
        let pipeline = try String(contentsOf: scratch.root.appendingPathComponent("pipelines/retrain-pipeline.json"), encoding: .utf8)
        try scratch.write("pipelines/retrain-pipeline.json",
                          pipeline.replacingOccurrences(of: "\"end\": \"2026-01-02T00:00:00Z\"", with: "\"end\": \"9999-09-09\""))
        let unbounded = try refit("plan", "--schedules", scratch.root.path, "--pipeline", "RetrainPipeline")
        #expect(unbounded.exitCode == 1)
        #expect(unbounded.stderr.contains("unbounded"))
        let huge = try refit("plan", "--schedules", scratch.root.path, "--pipeline", "RetrainPipeline",
                             "--from", "2026-01-01", "--to", "2200-01-01")
        #expect(huge.exitCode == 1)
        #expect(huge.stderr.contains("more than 1000000 windows"))
    }

    @Test("bad arguments are usage errors (exit 2); an unknown pipeline is invalid input (exit 1)")
    func badArguments() throws {
        let badTime = try refit("plan", "--pipeline", "RetrainPipeline", "--from", "yesterday")
        #expect(badTime.exitCode == 2)
        #expect(badTime.stderr.contains("yesterday"))
        let inverted = try refit("plan", "--pipeline", "RetrainPipeline", "--from", "2026-01-02", "--to", "2026-01-01")
        #expect(inverted.exitCode == 2)
        let missing = try refit("plan")
        #expect(missing.exitCode == 2)
        let unknown = try refit("plan", "--pipeline", "NoSuchPipeline")
        #expect(unknown.exitCode == 1)
        #expect(unknown.stderr.contains("RetrainPipeline"))
    }
}
