import Foundation
import Testing
import RefitTestKit

/// `refit history`, `refit show` and `refit slices` against a history the real worker wrote
/// (see `HistoryFixture`): their new options, consistent keys, and refused input.
@Suite("refit history, show and slices (end to end)", .timeLimit(.minutes(5)))
struct ReadCommandTests {
    @Test("history: --window, --order newest and --limit select attempts; unknown names and zone-less times are refused")
    func history() async throws {
        let fixture = try await HistoryFixture.shared.value
        let all = try fixture.history()
        #expect(all.count >= 4, "history: \(all)")
        #expect(all.map(\.startedAt) == all.map(\.startedAt).sorted())

        let window = try jsonObjects(try refit("history", "--db", fixture.db, "--window", "2026-01-01T01:00:00Z", "--format", "json").stdout)
        #expect(!window.isEmpty && window.allSatisfy { $0["windowStart"] as? String == "2026-01-01T01:00:00Z" })
        #expect(window.count == all.filter { $0.windowStart == "2026-01-01T01:00:00Z" }.count)

        let newest = try JSONDecoder().decode([HistoryRow].self, from: Data(
            try refit("history", "--db", fixture.db, "--order", "newest", "--limit", "2", "--format", "json").stdout.utf8))
        #expect(newest.map(\.runId) == Array(all.reversed().prefix(2)).map(\.runId))
        let oldest = try JSONDecoder().decode([HistoryRow].self, from: Data(
            try refit("history", "--db", fixture.db, "--limit", "1", "--format", "json").stdout.utf8))
        #expect(oldest.map(\.runId) == [all[0].runId])

        let csv = try refit("history", "--db", fixture.db, "--format", "csv")
        #expect(csv.stdout.hasPrefix("runId,pipeline,activity,windowStart,windowEnd,"))

        for (arguments, code) in [(["--pipeline", "NoSuchPipeline"], Int32(1)), (["--activity", "NoSuchActivity"], 1),
                                  (["--window", "2026-01-01T01:00:00"], 2), (["--since", "2026-13-01"], 2),
                                  (["--limit", "0"], 2), (["--order", "sideways"], 2)] {
            let refused = try refit(["history", "--db", fixture.db] + arguments)
            #expect(refused.exitCode == code && isOneSentence(refused.stderr) && refused.stdout.isEmpty,
                    "\(arguments): exit \(refused.exitCode), stderr: \(refused.stderr)")
        }
    }

    @Test("show: a unique run id prefix shows the run; an ambiguous or unknown one is one sentence and exit 1")
    func showByPrefix() async throws {
        let fixture = try await HistoryFixture.shared.value
        let run = try #require(try fixture.history().first)
        let shown = try refit("show", String(run.runId.prefix(8)), "--db", fixture.db, "--format", "json")
        #expect(shown.exitCode == 0, "stderr: \(shown.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        #expect(object["runId"] as? String == run.runId && object["windowStart"] as? String == run.windowStart)
        #expect(object["steps"] is [Any] && object["events"] is [Any] && object.keys.contains("resumedFromRunId"))
        let table = try refit("show", run.runId, "--db", fixture.db)
        #expect(table.exitCode == 0 && table.stdout.contains("runId: \(run.runId)"))

        // A second run sharing the first eight characters makes that prefix ambiguous.
        let scratch = try fixture.copy()
        defer { scratch.remove() }
        try sqlite(scratch.database, """
            INSERT INTO runs (run_id, window_id, attempt, "trigger", status, worker_id, started_at, ended_at, definition_sha256)
            SELECT substr(run_id, 1, 8) || '-twin', window_id, attempt + 10, "trigger", status, worker_id, started_at, ended_at,
                   definition_sha256 FROM runs WHERE run_id = '\(run.runId)';
            """)
        let ambiguous = try refit("show", String(run.runId.prefix(8)), "--db", scratch.database)
        #expect(ambiguous.exitCode == 1 && isOneSentence(ambiguous.stderr) && ambiguous.stderr.contains("ambiguous"),
                "stderr: \(ambiguous.stderr)")
        let unknown = try refit("show", "no-such-run", "--db", fixture.db)
        #expect(unknown.exitCode == 1 && isOneSentence(unknown.stderr), "stderr: \(unknown.stderr)")
    }

    @Test("slices: a waiting window names the failed input slice that blocks it; without definitions it still lists windows")
    func slicesBlockedBy() async throws {
        let fixture = try await HistoryFixture.shared.value
        let listed = try refit("slices", "--schedules", fixture.folder.root.path, "--db", fixture.db, "--pipeline", "RetrainPipeline",
                               "--format", "json")
        #expect(listed.exitCode == 0, "stderr: \(listed.stderr)")
        let rows = try jsonObjects(listed.stdout)
        let external = try #require(rows.first { $0["kind"] as? String == "external" && $0["sliceStart"] as? String == "2026-01-01T02:00:00Z" })
        #expect(external["status"] as? String == "Failed" && external["substatus"] as? String == "TimedOut", "\(external)")
        let retrain = try #require(rows.first { $0["activity"] as? String == "Retrain" && $0["windowStart"] as? String == "2026-01-01T02:00:00Z" })
        #expect(retrain["status"] as? String == "Waiting", "\(retrain)")
        #expect((retrain["blockedBy"] as? String)?.contains("input TrainingData slice 2026-01-01T02:00:00Z is Failed (TimedOut)") == true,
                "\(retrain)")
        let update = try #require(rows.first { $0["activity"] as? String == "UpdateScoringEndpoint" && $0["windowStart"] as? String == "2026-01-01T02:00:00Z" })
        #expect((update["blockedBy"] as? String)?.contains("input TrainedModel slice 2026-01-01T02:00:00Z is Waiting") == true, "\(update)")
        let ready = try #require(rows.first { $0["activity"] as? String == "Retrain" && $0["windowStart"] as? String == "2026-01-01T00:00:00Z" })
        #expect(ready["status"] as? String == "Ready" && ready["blockedBy"] is NSNull)
        for row in rows {
            #expect(Set(row.keys) == ["kind", "pipeline", "activity", "dataset", "windowStart", "windowEnd", "sliceStart", "sliceEnd",
                                      "status", "substatus", "attempts", "nextAt", "message", "blockedBy", "leaseOwner", "leaseExpiresAt", "ownerGone",
                                      "changedAt"])
        }
        let table = try refit("slices", "--schedules", fixture.folder.root.path, "--db", fixture.db, "--pipeline", "RetrainPipeline")
        #expect(table.stdout.contains("is Failed (TimedOut)"))

        // No definitions: run where there is no ./schedules.
        let elsewhere = try ScratchSchedules()
        defer { elsewhere.remove() }
        let bare = try runProcess(BuiltProducts.executable("refit"), ["slices", "--db", fixture.db, "--pipeline", "RetrainPipeline",
                                                                       "--format", "json"], currentDirectory: elsewhere.root)
        #expect(bare.exitCode == 0, "stderr: \(bare.stderr)")
        let bareRows = try jsonObjects(bare.stdout)
        #expect(bareRows.filter { $0["kind"] as? String == "window" }.count == 6)
        #expect(bareRows.contains { $0["kind"] as? String == "external" && $0["dataset"] as? String == "TrainingData" })

        let unknown = try refit("slices", "--db", fixture.db, "--pipeline", "NoSuchPipeline")
        #expect(unknown.exitCode == 1 && isOneSentence(unknown.stderr), "stderr: \(unknown.stderr)")
        let inverted = try refit("slices", "--db", fixture.db, "--pipeline", "RetrainPipeline", "--from", "2026-01-02", "--to", "2026-01-01")
        #expect(inverted.exitCode == 2 && isOneSentence(inverted.stderr), "stderr: \(inverted.stderr)")
    }

    @Test("--db defaults to $REFIT_DB; plan takes --format csv; a zone-less time is refused with one sentence")
    func consistentOptions() async throws {
        let fixture = try await HistoryFixture.shared.value
        var environment = ProcessInfo.processInfo.environment
        environment["REFIT_DB"] = fixture.db
        let viaEnvironment = try refit("history", "--format", "json", environment: environment)
        let listed = try jsonObjects(viaEnvironment.stdout), expected = try fixture.history()
        #expect(viaEnvironment.exitCode == 0 && listed.count == expected.count)

        let plan = try refit("plan", "--schedules", fixture.folder.root.path, "--pipeline", "RetrainPipeline", "--format", "csv")
        #expect(plan.exitCode == 0, "stderr: \(plan.stderr)")
        let lines = plan.stdout.split(separator: "\n")
        #expect(lines.first == "activity,windowStart,windowEnd,dueAt,inputs" && lines.count == 7, "\(plan.stdout)")
        let zoneless = try refit("plan", "--schedules", fixture.folder.root.path, "--pipeline", "RetrainPipeline",
                                 "--from", "2026-01-01T00:00:00", "--to", "2026-01-01T02:00:00Z")
        #expect(zoneless.exitCode == 2 && isOneSentence(zoneless.stderr) && zoneless.stderr.contains("time zone"),
                "stderr: \(zoneless.stderr)")
        let inverted = try refit("plan", "--schedules", fixture.folder.root.path, "--pipeline", "RetrainPipeline",
                                 "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z")
        #expect(inverted.exitCode == 2 && isOneSentence(inverted.stderr), "stderr: \(inverted.stderr)")
    }
}
