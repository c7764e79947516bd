import Foundation
import Testing
import RefitTestKit

@Suite("refit validate")
struct ValidateCommandTests {
    @Test("the repository's example schedules are valid")
    func exampleIsValid() throws {
        let result = try refit("validate", "--schedules", "schedules")
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("valid"))
    }

    @Test("every problem is reported at once as file:line:column, exit 1")
    func reportsAllProblems() throws {
        let scratch = try ScratchSchedules()
        defer { scratch.remove() }
        try scratch.copyExample()
        // Two independent problems in two files.
        try scratch.write("broken/bad-syntax.json", "{\n  \"name\": \"X\",\n  \"properties\": {\n    \"type\": \"AzureBlob\"\n    \"linkedServiceName\": \"DemoStorage\"\n  }\n}\n")
        try scratch.write("broken/bad-interval.json", """
            {"name": "BadInterval", "properties": {"type": "AzureBlob", "linkedServiceName": "DemoStorage",
             "typeProperties": {"folderPath": "x"},
             "availability": {"frequency": "Hour", "interval": 0}}}
            """)
        let result = try refit("validate", "--schedules", scratch.root.path)
        #expect(result.exitCode == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix(scratch.root.path + "/broken/bad-syntax.json:5:5: error:") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(scratch.root.path + "/broken/bad-interval.json:3:52: error:") }, "\(lines)")
    }

    @Test("a missing schedules folder is one clear sentence, exit 1")
    func missingFolder() throws {
        let result = try refit("validate", "--schedules", "/nonexistent/refit-schedules")
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("/nonexistent/refit-schedules"))
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test("usage errors exit 2")
    func usageError() throws {
        let result = try refit("validate", "--no-such-flag")
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("--no-such-flag"))
    }

    @Test("a literal secret is a warning whose text never shows the value")
    func literalSecretIsWarned() throws {
        let scratch = try ScratchSchedules()
        defer { scratch.remove() }
        try scratch.copyExample()
        let secret = "sup3r-s3cret-literal-value"
        try scratch.write("linked-services/demo-training.json", """
            {"name": "DemoTrainingService", "properties": {"type": "AzureML", "typeProperties": {
              "mlEndpoint": "http://127.0.0.1:9/workspaces/w/services/s/jobs", "apiKey": "\(secret)"}}}
            """)
        let result = try refit("validate", "--schedules", scratch.root.path)
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("warning"))
        #expect(!result.stderr.contains(secret))
        #expect(!result.stdout.contains(secret))
    }
}
