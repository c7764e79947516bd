import Foundation
import Testing
import RefitTestKit

/// Changed-data detection against the real `refit` and `refit-mlsim`: a Ready training slice
/// corrected after its window ran is shown as changed, nothing re-runs on its own, and a rerun
/// checks the slice again and trains on the corrected data.
@Suite("changed data: detected, shown, re-run on request (emulator)", .timeLimit(.minutes(5)))
struct ChangedDataTests {
    @Test("a corrected Ready slice shows Changed; rerun re-checks it and re-trains; an untouched slice stays as it was")
    func correctedSliceIsShownAndRerun() async throws {
        let fixture = try await OperatorFixture.start(hours: 3, start: "2026-01-01T00:00:00Z", end: "2026-01-01T03:00:00Z")
        defer { fixture.stop() }
        #expect(try await fixture.tick().exitCode == 0)
        func external(_ start: String) async throws -> SliceRow? {
            try await fixture.slices().first { $0.kind == "external" && $0.sliceStart == start }
        }
        let before = try #require(try await external("2026-01-01T01:00:00Z"))
        #expect(before.status == "Ready" && before.substatus == nil && before.changedAt == nil, "\(before)")
        let retrainsBefore = try await fixture.history().filter { $0.activity == "Retrain" }.count

        // Corrected data: more rows in the 01:00 slice.
        try fixture.folder.write("data/training/2026/01/01/01.csv", "x1,x2,y\n" + (0..<40).map { "\($0),1,\(2 * $0 + 1)" }.joined(separator: "\n") + "\n")
        let tick = try await fixture.tick()
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        let changed = try #require(try await external("2026-01-01T01:00:00Z"))
        #expect(changed.status == "Ready" && changed.substatus == "Changed" && changed.changedAt != nil, "\(changed)")
        #expect(changed.message?.contains("modified") == true, "\(changed)")
        let untouched = try #require(try await external("2026-01-01T02:00:00Z"))
        #expect(untouched.substatus == nil && untouched.changedAt == nil, "\(untouched)")
        // Nothing re-ran on its own.
        #expect(try await fixture.history().filter { $0.activity == "Retrain" }.count == retrainsBefore)
        let audit = try await fixture.refitDatabase("audit", "--format", "json")
        #expect(audit.stdout.contains("sliceDataChanged"), "audit: \(audit.stdout)")

        // A rerun of the window that read it checks the slice again and trains on the new data.
        let rerun = try await fixture.refitWithDefinitions("rerun", "--pipeline", "RetrainPipeline", "--activity", "Retrain",
                                                           "--window", "2026-01-01T01:00:00Z", "--reason", "corrected data")
        #expect(rerun.exitCode == 0, "stderr: \(rerun.stderr)")
        #expect(try await fixture.tick().exitCode == 0)
        let after = try #require(try await external("2026-01-01T01:00:00Z"))
        #expect(after.status == "Ready" && after.substatus == nil && after.changedAt == nil, "\(after)")
        #expect(try await fixture.window("Retrain", "2026-01-01T01:00:00Z")?.status == "Ready")
        let reruns = try await fixture.history().filter { $0.activity == "Retrain" && $0.windowStart == "2026-01-01T01:00:00Z" && $0.trigger == "rerun" }
        #expect(reruns.count == 1 && reruns.first?.status == "Succeeded", "\(reruns)")
        // A later tick finds nothing new to mark.
        #expect(try await fixture.tick().exitCode == 0)
        #expect(try await fixture.slices().allSatisfy { $0.substatus != "Changed" })
    }
}
