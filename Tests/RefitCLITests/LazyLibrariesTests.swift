import Foundation
import Testing
import RefitTestKit

/// libcurl and libpq are opened on first use, not at start: a command that makes no HTTP request
/// and opens no PostgreSQL store never loads them (nor the thirty-odd libraries they need). The
/// dynamic loader's own trace (`LD_DEBUG=files`) names every library a process loads.
@Suite("libcurl and libpq load only when used")
struct LazyLibrariesTests {
    @Test("validate, status and a tick that calls nobody load neither library", arguments: ["validate", "status", "tick"])
    func notLoadedWhenUnused(command: String) async throws {
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        var environment = ProcessInfo.processInfo.environment
        environment["LD_DEBUG"] = "files"
        // Without its endpoints' variables the example pipeline cannot run, so the tick calls nobody.
        for key in environment.keys where key.hasPrefix("REFIT_DEMO_") { environment[key] = nil }
        let arguments: [String] = switch command {
        case "validate": ["validate", "--schedules", folder.root.path]
        case "status": ["status", "--db", folder.database]
        default: ["tick", "--once", "--schedules", folder.root.path, "--db", folder.database]
        }
        let result = try await offPool { [environment] in
            try runProcess(BuiltProducts.executable("refit"), arguments, environment: environment,
                           currentDirectory: BuiltProducts.packageRoot)
        }
        let loaded = result.stderr.split(separator: "\n").filter { $0.contains("file=") }
        #expect(!loaded.isEmpty, "LD_DEBUG printed nothing: \(result.stderr.suffix(500))")
        #expect(!loaded.contains { $0.contains("file=libcurl") || $0.contains("file=libpq") },
                "\(loaded.filter { $0.contains("libcurl") || $0.contains("libpq") })")
    }
}
