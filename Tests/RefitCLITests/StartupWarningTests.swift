import Foundation
import Testing
import RefitTestKit

/// `tick` (and `run`, which builds its worker the same way) names at start the pipelines that
/// cannot run for want of environment variables; with them set, it says nothing of the kind.
@Suite("tick names the pipelines missing environment variables at start")
struct StartupWarningTests {
    @Test("unset variables are named per pipeline; set ones are not")
    func missingVariablesAreNamed() async throws {
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("REFIT_DEMO_") { environment[key] = nil }
        environment["REFIT_DEMO_TRAINING_API_KEY"] = "set"
        let arguments = ["tick", "--once", "--schedules", folder.root.path, "--db", folder.database]
        let result = try await offPool { [environment] in
            try runProcess(BuiltProducts.executable("refit"), arguments, environment: environment, currentDirectory: BuiltProducts.packageRoot)
        }
        let line = try #require(result.stderr.split(separator: "\n").first { $0.contains("cannot run until") }, "stderr: \(result.stderr)")
        #expect(line.contains("pipeline RetrainPipeline cannot run until these environment variables are set: REFIT_DEMO_SCORING_API_KEY, "))
        #expect(line.contains("REFIT_DEMO_STORAGE_CONNECTION_STRING") && !line.contains("REFIT_DEMO_TRAINING_API_KEY"), "\(line)")
    }
}
