import Foundation
import Testing
import RefitTestKit

/// `refit audit` and `refit audit verify` against a history the real worker wrote.
@Suite("refit audit (end to end)", .timeLimit(.minutes(5)))
struct AuditCommandTests {
    @Test("audit lists the hash-chained events with the documented keys; --since, --pipeline and csv filter and format them")
    func listsEvents() async throws {
        let fixture = try await HistoryFixture.shared.value
        let listed = try refit("audit", "--db", fixture.db, "--format", "json")
        #expect(listed.exitCode == 0, "stderr: \(listed.stderr)")
        let events = try jsonObjects(listed.stdout)
        #expect(events.count > 5)
        let keys = ["id", "at", "kind", "pipeline", "activity", "windowStart", "runId", "detail", "hash"]
        #expect(events.allSatisfy { Set($0.keys) == Set(keys) }, "keys: \(events.first?.keys.sorted() ?? [])")
        let ids = events.compactMap { $0["id"] as? Int }
        #expect(ids == Array(1...ids.count))
        #expect(events.allSatisfy { ($0["at"] as? String)?.hasSuffix("Z") == true })
        #expect(events.contains { $0["runId"] is String && $0["pipeline"] as? String == "RetrainPipeline" })

        let pipeline = try jsonObjects(try refit("audit", "list", "--db", fixture.db, "--pipeline", "RetrainPipeline", "--format", "json").stdout)
        #expect(!pipeline.isEmpty && pipeline.allSatisfy { $0["pipeline"] as? String == "RetrainPipeline" })
        let future = try refit("audit", "--db", fixture.db, "--since", "2999-01-01T00:00:00Z", "--format", "json")
        let none = try jsonObjects(future.stdout)
        #expect(future.exitCode == 0 && none.isEmpty)

        let csv = try refit("audit", "--db", fixture.db, "--format", "csv")
        #expect(csv.stdout.hasPrefix("id,at,kind,pipeline,activity,windowStart,runId,detail,hash\n"))
        let table = try refit("audit", "--db", fixture.db)
        #expect(table.stdout.hasPrefix("ID"))

        let unknown = try refit("audit", "--db", fixture.db, "--pipeline", "NoSuchPipeline")
        #expect(unknown.exitCode == 1 && isOneSentence(unknown.stderr), "stderr: \(unknown.stderr)")
        let badTime = try refit("audit", "--db", fixture.db, "--since", "2026-01-01T00:00")
        #expect(badTime.exitCode == 2 && isOneSentence(badTime.stderr) && badTime.stderr.contains("time zone"), "stderr: \(badTime.stderr)")
    }

    @Test("audit verify: an intact chain exits 0 with its count and tail hash; --expect-tail accepts the tail or an earlier hash and detects truncation")
    func verifiesIntactChainAndTail() async throws {
        let fixture = try await HistoryFixture.shared.value
        let events = try jsonObjects(try refit("audit", "--db", fixture.db, "--format", "json").stdout)
        let hashes = events.compactMap { $0["hash"] as? String }
        let tail = try #require(hashes.last)

        let verified = try refit("audit", "verify", "--db", fixture.db)
        #expect(verified.exitCode == 0, "stderr: \(verified.stderr)")
        #expect(verified.stdout.contains("intact") && verified.stdout.contains("\(hashes.count) events") && verified.stdout.contains(tail),
                "stdout: \(verified.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(
            with: Data(try refit("audit", "verify", "--db", fixture.db, "--format", "json").stdout.utf8)) as? [String: Any])
        #expect(json["intact"] as? Bool == true && json["events"] as? Int == hashes.count && json["tailHash"] as? String == tail)

        let atTail = try refit("audit", "verify", "--db", fixture.db, "--expect-tail", tail)
        #expect(atTail.exitCode == 0 && atTail.stdout.contains("expected tail"), "stdout: \(atTail.stdout) stderr: \(atTail.stderr)")
        let earlier = try refit("audit", "verify", "--db", fixture.db, "--expect-tail", hashes[hashes.count - 4])
        #expect(earlier.exitCode == 0 && earlier.stdout.contains("3 events followed"), "stdout: \(earlier.stdout)")

        // Truncation: the newest events are deleted (after dropping the trigger that refuses it);
        // what is left is a valid shorter chain, but the tail kept elsewhere is gone.
        let scratch = try fixture.copy()
        defer { scratch.remove() }
        try sqlite(scratch.database, "DROP TRIGGER events_no_delete; DELETE FROM events WHERE id > \(hashes.count - 2);")
        #expect(try refit("audit", "verify", "--db", scratch.database).exitCode == 0)
        let truncated = try refit("audit", "verify", "--db", scratch.database, "--expect-tail", tail)
        #expect(truncated.exitCode == 1, "stdout: \(truncated.stdout)")
        #expect(isOneSentence(truncated.stderr) && truncated.stderr.contains("Truncation detected") && truncated.stderr.contains(tail),
                "stderr: \(truncated.stderr)")

        let malformed = try refit("audit", "verify", "--db", fixture.db, "--expect-tail", "abc")
        #expect(malformed.exitCode == 2 && isOneSentence(malformed.stderr), "stderr: \(malformed.stderr)")
    }

    @Test("audit verify: a row edited after dropping the append-only trigger breaks the chain at that event (exit 1)")
    func detectsTamperedRow() async throws {
        let fixture = try await HistoryFixture.shared.value
        let scratch = try fixture.copy()
        defer { scratch.remove() }
        try sqlite(scratch.database, #"DROP TRIGGER events_no_update; UPDATE events SET detail = '{"forged":true}' WHERE id = 3;"#)
        let tampered = try refit("audit", "verify", "--db", scratch.database)
        #expect(tampered.exitCode == 1, "stdout: \(tampered.stdout)")
        #expect(isOneSentence(tampered.stderr) && tampered.stderr.contains("broken at event 3"), "stderr: \(tampered.stderr)")
        #expect(tampered.stdout.isEmpty)
    }
}
