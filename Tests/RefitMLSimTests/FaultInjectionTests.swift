import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefitMLSim
import Testing

/// Fault injection by flags and the admin route: statuses, Retry-After, latency, drops, malformed
/// bodies and failing jobs.
@Suite struct FaultInjectionTests {
    @Test(arguments: [(503, "ServiceUnavailable"), (429, "TooManyRequests"), (500, "InternalError")])
    func countedStatusFaultsThenRecovery(status: Int, code: String) async throws {
        let emu = try await TestEmulator.start { configuration in
            configuration.faults.merge(FaultPlan(operation: .submit, status: status, count: 2, retryAfter: status == 500 ? nil : 2))
        }
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        for _ in 0..<2 {
            let result = try await emu.submit(emu.trainingRequest())
            #expect(result.status == status)
            #expect(result.errorCode == code)
            #expect(result.header("Retry-After") == (status == 500 ? nil : "2"))
        }
        #expect(try await emu.submit(emu.trainingRequest()).status == 200)
    }

    @Test func rateOneAlwaysFiresAndRateZeroNever() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.setFaults(["plans": [["operation": "score", "status": 503, "rate": 1.0]]])
        for _ in 0..<3 { #expect(try await emu.score(emu.retrain).status == 503) }
        try await emu.setFaults(["plans": [["operation": "score", "status": 503, "rate": 0.0]]])
        for _ in 0..<3 { #expect(try await emu.score(emu.retrain).status == 200) }
    }

    @Test func latencyDelaysButAnswers() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.setFaults(["operation": "score", "latencyMs": 50, "count": 1])
        #expect(try await emu.scoredLabel(emu.retrain) == "3")
        let record = try #require(try await emu.operations().last { $0["op"] as? String == "score" })
        #expect(record["fault"] as? String == "latency")
    }

    /// `hold` lets the call take effect and be logged before the answer comes: the log shows the
    /// submit while the client is still waiting for it (the crash suite kills the client there).
    @Test func holdLogsTheEffectBeforeAnswering() async throws {
        let emu = try await TestEmulator.start { configuration in
            configuration.faults.merge(FaultPlan(operation: .submit, count: 1, holdMs: 60_000))
        }
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let request = emu.trainingRequest()
        let held = Task { _ = try await emu.submit(request) }
        var logged: [String: Any]?
        for _ in 0..<500 where logged == nil {
            logged = try await emu.operations().last { $0["op"] as? String == "submit" }
            if logged == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let record = try #require(logged)
        #expect(record["fault"] as? String == "hold")
        #expect(record["status"] as? Int == 200)
        #expect(record["jobId"] as? String != nil)
        // The held answer has not arrived; a second submit (count used up) answers at once.
        #expect(try await emu.submit(emu.trainingRequest()).status == 200)
        held.cancel()
    }

    @Test func dropClosesTheConnectionWithoutAnswer() async throws {
        let emu = try await TestEmulator.start { configuration in
            configuration.faults.merge(FaultPlan(operation: .submit, count: 1, drop: true))
        }
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        // A fresh session, so the client cannot silently retry on a reused connection.
        let session = URLSession(configuration: .ephemeral)
        let body = try JSONSerialization.data(withJSONObject: emu.trainingRequest())
        await #expect(throws: (any Error).self) {
            try await emu.send("POST", emu.info.training.jobsURL, bearer: emu.trainingKey, body: body, session: session)
        }
        let dropped = try await emu.operations().filter { $0["op"] as? String == "submit" }
        #expect(dropped.count == 1 && dropped.first?["fault"] as? String == "drop" && dropped.first?["status"] == nil)
        #expect(try await emu.submit(emu.trainingRequest()).status == 200)
    }

    @Test func malformedAnswersInvalidJSON() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        try await emu.setFaults(["plans": [["operation": "status", "malformed": true, "count": 1]]])
        let broken = try await emu.status(finished.id)
        #expect(broken.status == 200)
        #expect(broken.json == nil)
        #expect(try await emu.status(finished.id).object["StatusCode"] as? String == "Finished")
    }

    @Test func failJobsEndsJobsFailedWithDetails() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.setFaults(["failJobs": 1, "failJobsDetails": "Module: Train Model; Error 0085: injected"])
        let failed = try await emu.train(csv: linearCSV())
        #expect(failed.status["StatusCode"] as? String == "Failed")
        #expect(failed.status["Details"] as? String == "Module: Train Model; Error 0085: injected")
        #expect(try await emu.train(csv: linearCSV()).status["StatusCode"] as? String == "Finished")
    }

    @Test func adminRoutesNeedTheWorkspaceTokenAndDeleteClears() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let refused = try await emu.sendJSON("POST", "\(emu.info.adminURL)/faults", bearer: emu.retrain.apiKey,
                                             ["operation": "score", "status": 503])
        #expect(refused.status == 401)
        #expect(refused.detailCode == "AdminRequestUnauthorized")
        try await emu.setFaults(["operation": "score", "status": 503])
        #expect(try await emu.score(emu.retrain).status == 503)
        #expect(try await emu.send("DELETE", "\(emu.info.adminURL)/faults", bearer: emu.info.managementToken).status == 200)
        #expect(try await emu.score(emu.retrain).status == 200)
        let invalid = try await emu.sendJSON("POST", "\(emu.info.adminURL)/faults", bearer: emu.info.managementToken,
                                             ["operation": "score", "status": 404])
        #expect(invalid.status == 400)
    }

    /// Storage trouble: `blob:403` answers Azure Storage's `AuthorizationFailure` (XML body,
    /// `x-ms-error-code`) without storing anything; at `rate` it hits a seeded fraction of calls.
    @Test func blobForbiddenAnswersAuthorizationFailure() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/first.csv", Data(linearCSV().utf8))
        try await emu.setFaults(["plans": [["operation": "blob", "status": 403, "count": 1]]])
        let denied = try await emu.putBlob("data/train.csv", Data(linearCSV().utf8))
        #expect(denied.status == 403)
        #expect(denied.header("x-ms-error-code") == "AuthorizationFailure")
        #expect(denied.text.contains("<Code>AuthorizationFailure</Code>"))
        let logged = try #require(try await emu.operations().last { $0["op"] as? String == "blob-put" })
        #expect(logged["fault"] as? String == "403" && logged["status"] as? Int == 403)
        #expect(try await emu.putBlob("data/train.csv", Data(linearCSV().utf8)).status == 201)

        try await emu.setFaults(["plans": [["operation": "blob", "status": 403, "rate": 0.5]]])
        var statuses: [Int] = []
        for index in 0..<40 { statuses.append(try await emu.putBlob("data/r\(index).csv", Data("a\n1\n".utf8)).status) }
        #expect(statuses.allSatisfy { $0 == 403 || $0 == 201 })
        #expect(statuses.contains(403) && statuses.contains(201), "rate 0.5 over 40 calls: \(statuses)")

        // 403 is a storage answer: other operations refuse it, by flag and by the admin route.
        var settings = FaultSettings()
        try settings.add(spec: "blob:403:rate=0.3")
        #expect(settings.plans.contains(FaultPlan(operation: .blob, status: 403, rate: 0.3)))
        #expect(throws: FaultSpecError.self) { try settings.add(spec: "submit:403") }
        let refused = try await emu.sendJSON("POST", "\(emu.info.adminURL)/faults", bearer: emu.info.managementToken,
                                             ["operation": "submit", "status": 403])
        #expect(refused.status == 400)
    }

    @Test func flagSyntaxParses() throws {
        var settings = FaultSettings()
        try settings.add(spec: "submit:503:count=2:retry-after=1")
        try settings.add(spec: "score:latency=200:rate=0.5")
        try settings.add(spec: "status:drop:count=1")
        try settings.add(spec: "patch:malformed")
        try settings.add(spec: "start:hold=1500:count=1")
        #expect(settings.plans.contains(FaultPlan(operation: .start, count: 1, holdMs: 1500)))
        try settings.add(spec: "jobs:fail=2:details=boom: really")
        #expect(settings.plans.contains(FaultPlan(operation: .submit, status: 503, count: 2, retryAfter: 1)))
        #expect(settings.plans.contains(FaultPlan(operation: .score, rate: 0.5, latencyMs: 200)))
        #expect(settings.plans.contains(FaultPlan(operation: .status, count: 1, drop: true)))
        #expect(settings.plans.contains(FaultPlan(operation: .patch, malformed: true)))
        #expect(settings.failJobs == 2 && settings.failJobsDetails == "boom: really")
        for bad in ["nothing:503", "submit", "submit:404", "submit:rate=2:500", "submit:503:count=x", "submit:frobnicate",
                    "submit:hold=10:503", "submit:hold=x", "patch:hold=5:drop"] {
            #expect(throws: FaultSpecError.self) { try settings.add(spec: bad) }
        }
    }
}
