import Foundation
import Testing
import RefitTestKit

/// `refit validate` on hostile and odd definitions: one located sentence and exit 1 for what is
/// wrong, exit 0 for what only deserves a warning, never a crash and never long.
@Suite("refit validate on hostile input")
struct ValidateHostileTests {
    @Test("a YAML alias bomb is one located sentence and exit 1, in well under a few seconds")
    func aliasBomb() async throws {
        let scratch = try ScratchSchedules.example()
        defer { scratch.remove() }
        var yaml = "name: Bomb\nproperties:\n  type: AzureStorage\n  description: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            yaml += "  x\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", "))]\n"
        }
        try scratch.write("bomb.yaml", yaml)
        let start = Date()
        let result = try await refitOffPool("validate", "--schedules", scratch.root.path)
        #expect(Date().timeIntervalSince(start) < 120, "a hang guard: the bomb once took exponential time")
        #expect(result.exitCode == 1)
        let errors = result.stderr.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.hasPrefix(scratch.root.path + "/bomb.yaml:7:") == true, "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test("only warnings (an unknown key) print them and exit 0")
    func warningsOnly() async throws {
        let scratch = try ScratchSchedules.example()
        defer { scratch.remove() }
        let path = scratch.root.appendingPathComponent("pipelines/retrain-pipeline.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try scratch.write("pipelines/retrain-pipeline.json", text.replacingOccurrences(of: "\"retry\": 3", with: "\"retries\": 3"))
        let result = try await refitOffPool("validate", "--schedules", scratch.root.path)
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("warning: unknown key \"retries\" in policy is ignored; did you mean \"retry\"?"), "\(result.stderr)")
        #expect(result.stdout.contains("valid"))
    }
}
