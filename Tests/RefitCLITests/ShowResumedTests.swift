import Foundation
import Testing
import RefitTestKit

/// `refit show` on an attempt that resumed a batch job: the real worker is killed after the
/// emulator started the job and before the worker journaled the start, and the next attempt
/// polls that job instead of submitting another.
@Suite("refit show of a resumed attempt (end to end)", .timeLimit(.minutes(4)))
struct ShowResumedTests {
    @Test("show names the job a resumed attempt polled and the run that submitted it")
    func resumedAttempt() async throws {
        let scenario = try await CrashScenario.start(hours: 1, retrainConcurrency: 1)
        defer { scenario.cleanup() }
        try await scenario.emulator.setFaults(#"{"plans":[{"operation":"start","holdMs":60000,"count":1}]}"#)
        let worker = try scenario.startWorker()
        #expect(try await scenario.waitForOperations(seconds: 60) { $0.contains { $0.op == "start" && $0.fault == "hold" } })
        await scenario.kill(worker)
        try await scenario.emulator.clearFaults()
        let history = try await scenario.converge()
        let job = try #require(try await scenario.emulator.operations().first { $0.op == "start" && $0.fault == "hold" }?.jobId)

        let retrains = history.filter { $0.activity == "Retrain" }
        #expect(retrains.count == 2, "history: \(history)")
        let first = try #require(retrains.first), resumed = try #require(retrains.last)
        #expect(resumed.status == "Succeeded" && resumed.externalJobId == job)

        let shown = try await refitOffPool("show", String(resumed.runId.prefix(13)), "--db", scenario.db, "--format", "json")
        #expect(shown.exitCode == 0, "stderr: \(shown.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        #expect(object["runId"] as? String == resumed.runId)
        #expect(object["resumedJobId"] as? String == job && object["resumedFromRunId"] as? String == first.runId, "\(object)")
        let table = try await refitOffPool("show", resumed.runId, "--db", scenario.db)
        #expect(table.stdout.contains("resumed: job \(job), submitted by run \(first.runId)"), "stdout: \(table.stdout)")

        let original = try await refitOffPool("show", first.runId, "--db", scenario.db, "--format", "json")
        let originalObject = try #require(try JSONSerialization.jsonObject(with: Data(original.stdout.utf8)) as? [String: Any])
        #expect(originalObject["resumedFromRunId"] is NSNull, "the submitting run resumed nothing: \(originalObject)")
        // Stopped here, not only in the detached cleanup, so the emulator never outlives the test process.
        await scenario.emulator.stop()
    }
}
