import Foundation
import Testing
import RefitTestKit

/// `refit tick --log-format json`: every stderr line is one JSON object with `message` exactly
/// once, typed values, and the tick's summary as the last line.
@Suite("--log-format json (end to end)", .timeLimit(.minutes(5)))
struct LogFormatTests {
    @Test("every line parses as JSON with one message; numbers are numbers, absent values null; the summary counts outcomes")
    func jsonLines() async throws {
        let fixture = try await HistoryFixture.shared.value
        var objects: [[String: Any]] = []
        for log in fixture.tickLogs {
            for line in log.split(separator: "\n") {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object != nil, "not a JSON object: \(line)")
                #expect(line.components(separatedBy: #""message":"#).count == 2, "message not exactly once: \(line)")
                if let object { objects.append(object) }
            }
        }
        #expect(objects.allSatisfy { $0["at"] is String && $0["level"] is String && $0["message"] is String })
        // A slice check's line carries its reason as a field of its own, never a second `message`.
        let checks = objects.filter { $0["dataset"] as? String == "TrainingData" && $0.keys.contains("reason") }
        #expect(!checks.isEmpty, "no slice check line with its reason: \(objects.map { $0["message"] ?? "" })")
        // Integers are numbers, the worker's "-" placeholder is null.
        #expect(objects.contains { $0["attempt"] is Int || $0["attempt"] is NSNumber })
        #expect(!objects.contains { $0.values.contains { ($0 as? String) == "-" } })

        let summaries = fixture.tickLogs.compactMap { log -> [String: Any]? in
            guard let last = log.split(separator: "\n").last else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        }
        #expect(summaries.count == fixture.tickLogs.count && summaries.allSatisfy { $0["summary"] as? String == "tick" })
        let first = try #require(summaries.first)
        for key in ["started", "succeeded", "failed", "waiting", "materialized", "checks"] {
            #expect(first[key] is Int, "\(key) in \(first)")
        }
        let started = summaries.compactMap { $0["started"] as? Int }.reduce(0, +)
        // An update whose retrain finished after a newer window's deployed ends Skipped/Superseded.
        let succeeded = summaries.compactMap { ($0["succeeded"] as? Int ?? 0) + ($0["skipped"] as? Int ?? 0) }.reduce(0, +)
        #expect(started == (try fixture.history()).count && succeeded >= 4, "summaries: \(summaries)")
        #expect(summaries.last?["waiting"] as? Int == 2, "the hour-02 windows still wait: \(summaries.last ?? [:])")
    }
}
