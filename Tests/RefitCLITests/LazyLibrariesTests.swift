import Foundation
import Testing
import RefitTestKit

/// libcurl, libpq and libxml2 are opened on first use, not at start: a command that makes no HTTP
/// request, opens no PostgreSQL store and reads no S3 or Azure listing never loads them (nor the
/// libraries they need). The dynamic loader's own trace (`LD_DEBUG=files`) names every library a
/// process loads.
@Suite("libcurl, libpq and libxml2 load only when used")
struct LazyLibrariesTests {
    @Test("validate, status and a tick that calls nobody load none of them", arguments: ["validate", "status", "tick"])
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
        let lazy = ["file=libcurl", "file=libpq", "file=libxml2", "file=libicu"]
        #expect(!loaded.contains { line in lazy.contains { line.contains($0) } }, "\(loaded.filter { line in lazy.contains { line.contains($0) } })")
    }

    @Test("a libcurl without the functions Refit calls fails the attempt with one sentence naming it")
    func unusableLibrary() async throws {
        // A library named libcurl.so.4 that defines none of libcurl's functions, found first on
        // LD_LIBRARY_PATH: the loader opens it and reports the first function it lacks. (clang
        // ships with every Swift toolchain.)
        let fake = FileManager.default.temporaryDirectory.appendingPathComponent("refit-fake-curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: fake, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: fake) }
        let source = fake.appendingPathComponent("fake.c")
        try "int refit_fake_curl(void) { return 0; }\n".write(to: source, atomically: true, encoding: .utf8)
        let compile = try await offPool {
            try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["clang", "-shared", "-fPIC", "-o", fake.appendingPathComponent("libcurl.so.4").path, source.path])
        }
        try #require(compile.exitCode == 0, "cc: \(compile.stderr)")

        let emulator = try await EmulatorProcess.start(arguments: ["--job-duration", "0"])
        defer { emulator.stop() }
        let folder = try ScratchSchedules.example()
        defer { folder.remove() }
        try folder.writeTrainingSlices(hours: 1)
        var environment = try demoEnvironment(emulator.info)
        environment["LD_LIBRARY_PATH"] = fake.path
        let tick = try await refitOffPool("tick", "--once", "--schedules", folder.root.path, "--db", folder.database,
                                          environment: environment)
        #expect(tick.exitCode == 0, "stderr: \(tick.stderr)")
        environment["LD_LIBRARY_PATH"] = nil
        let history = try await refitOffPool("history", "--db", folder.database, "--format", "json", environment: environment)
        let rows = try JSONDecoder().decode([HistoryRow].self, from: Data(history.stdout.utf8))
        let retrain = try #require(rows.first { $0.activity == "Retrain" }, "history: \(rows)")
        #expect(retrain.status == "Failed", "\(retrain)")
        #expect(retrain.error?.contains("libcurl (libcurl.so.4) has no function curl_global_init; it is older than Refit needs") == true,
                "\(retrain)")
    }
}
