import Foundation
import Testing
import RefitTestKit

@Suite("refit tick / history / slices / show")
struct WorkerCommandTests {
    /// Two daily windows of a Command activity without inputs, both in the past; the command fails
    /// every time, and `retry: 2` tries each window three times.
    func schedules() throws -> ScratchSchedules {
        let folder = try ScratchSchedules()
        try folder.write("storage.json", #"{"name": "Storage", "properties": {"type": "AzureStorage", "typeProperties": {"connectionString": "UseDevelopmentStorage=true"}}}"#)
        try folder.write("out.json", #"{"name": "Out", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "x"}, "availability": {"frequency": "Day", "interval": 1}}}"#)
        try folder.write("p.json", #"{"name": "Nightly", "properties": {"start": "2026-01-01", "end": "2026-01-03", "activities": [{"name": "Train", "type": "Command", "typeProperties": {"arguments": ["false"]}, "outputs": [{"name": "Out"}], "policy": {"concurrency": 2, "retry": 2}}]}}"#)
        return folder
    }

    @Test("tick exits 0 although every window fails after its retries; history, slices and show describe the failures")
    func tickAndListings() throws {
        let folder = try schedules()
        defer { folder.remove() }
        let db = folder.root.appendingPathComponent("refit.sqlite").path
        let tick = try refit("tick", "--schedules", folder.root.path, "--db", db)
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")

        let history = try refit("history", "--db", db, "--format", "json")
        #expect(history.exitCode == 0, "stderr: \(history.stderr)")
        let rows = try JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))
        #expect(rows.count == 6)
        #expect(Set(rows.map(\.windowStart)) == ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"])
        for start in ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"] {
            let attempts = rows.filter { $0.windowStart == start }
            #expect(attempts.map(\.attempt).sorted() == [1, 2, 3])
            #expect(attempts.map(\.trigger).sorted() == ["backfill", "retry", "retry"])
        }
        for row in rows {
            #expect(row.pipeline == "Nightly" && row.activity == "Train")
            #expect(row.status == "Failed")
            #expect(row.error == "Command 'false' exited with status 1.")
            #expect(row.endedAt != nil && row.externalJobId == nil)
        }

        let csv = try refit("history", "--db", db, "--format", "csv", "--status", "Failed", "--pipeline", "Nightly")
        #expect(csv.exitCode == 0)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("runId,pipeline,activity,windowStart,windowEnd,attempt,trigger,status") == true)
        #expect(lines.count == 7)
        let none = try refit("history", "--db", db, "--format", "json", "--status", "Succeeded")
        #expect(none.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")

        let slices = try refit("slices", "--schedules", folder.root.path, "--db", db, "--pipeline", "Nightly", "--format", "json")
        #expect(slices.exitCode == 0, "stderr: \(slices.stderr)")
        let sliceRows = try JSONDecoder().decode([SliceRow].self, from: Data(slices.stdout.utf8))
        #expect(sliceRows.map(\.status) == ["Failed", "Failed"])
        #expect(sliceRows.allSatisfy { $0.kind == "window" && $0.activity == "Train" && $0.attempts == 3 })
        // A failed window says why: its last attempt's error.
        #expect(sliceRows.map(\.message) == ["Command 'false' exited with status 1.", "Command 'false' exited with status 1."])

        let table = try refit("slices", "--schedules", folder.root.path, "--db", db, "--pipeline", "Nightly")
        #expect(table.stdout.split(separator: "\n").first?.hasPrefix("KIND") == true)

        let show = try refit("show", "--db", db, rows[0].runId)
        #expect(show.exitCode == 0, "stderr: \(show.stderr)")
        #expect(show.stdout.contains("attemptStarted") && show.stdout.contains("attemptFinished"))

        // A second tick starts nothing new: a window that used up its retries is Failed for good.
        let again = try refit("tick", "--schedules", folder.root.path, "--db", db)
        #expect(again.exitCode == 0)
        let after = try JSONDecoder().decode([HistoryRow].self, from: Data(try refit("history", "--db", db, "--format", "json").stdout.utf8))
        #expect(after.count == 6)
    }

    @Test("bad input: unknown run 1, bad status 2, unusable database 3")
    func exitCodes() throws {
        let folder = try schedules()
        defer { folder.remove() }
        let db = folder.root.appendingPathComponent("refit.sqlite").path
        #expect(try refit("tick", "--schedules", folder.root.path, "--db", db).exitCode == 0)
        let unknown = try refit("show", "--db", db, "no-such-run")
        #expect(unknown.exitCode == 1)
        #expect(unknown.stderr.contains("No run with id 'no-such-run'"))
        #expect(try refit("history", "--db", db, "--status", "Done").exitCode == 2)
        let folderAsDB = try refit("tick", "--schedules", folder.root.path, "--db", folder.root.path)
        #expect(folderAsDB.exitCode == 3)
        #expect(try refit("history", "--db", folder.root.appendingPathComponent("missing.sqlite").path).exitCode == 1)
    }

    /// `tick` reads the definitions and opens an existing database side by side; what it reports
    /// must not depend on that: bad definitions first (exit 1, the database untouched), then an
    /// unusable database (exit 3), and no file created for bad definitions.
    @Test("bad definitions win over the database, which they leave as it was")
    func definitionsBeforeDatabase() throws {
        let folder = try schedules()
        defer { folder.remove() }
        let db = folder.root.appendingPathComponent("refit.sqlite").path
        #expect(try refit("tick", "--schedules", folder.root.path, "--db", db).exitCode == 0)
        let before = try refit("history", "--db", db, "--format", "csv").stdout

        try folder.write("broken.json", #"{"name": "Broken", "properties": {"type": "AzureBlob"}}"#)
        let bad = try refit("tick", "--schedules", folder.root.path, "--db", db)
        #expect(bad.exitCode == 1, "stderr: \(bad.stderr)")
        #expect(bad.stderr.contains("broken.json") && bad.stderr.contains("in the definitions."))
        #expect(try refit("history", "--db", db, "--format", "csv").stdout == before)

        let notADatabase = folder.root.appendingPathComponent("notes.txt").path
        try Data(String(repeating: "not a database\n", count: 400).utf8).write(to: URL(fileURLWithPath: notADatabase))
        let both = try refit("tick", "--schedules", folder.root.path, "--db", notADatabase)
        #expect(both.exitCode == 1, "stderr: \(both.stderr)")
        #expect(!both.stderr.contains("database"), "stderr: \(both.stderr)")
        let missing = folder.root.appendingPathComponent("new.sqlite").path
        #expect(try refit("tick", "--schedules", folder.root.path, "--db", missing).exitCode == 1)
        #expect(!FileManager.default.fileExists(atPath: missing))

        try FileManager.default.removeItem(at: folder.root.appendingPathComponent("broken.json"))
        let unusable = try refit("tick", "--schedules", folder.root.path, "--db", notADatabase)
        #expect(unusable.exitCode == 3, "stderr: \(unusable.stderr)")
    }
}
