import Foundation
import RefitCore
import RefitDefinitions
import Testing

/// A uniquely named temporary folder, removed when released.
final class TempFolder {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("refit-defs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` (which may contain subfolders).
    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Copies fixture files (paths under `Fixtures/`) into the folder, flat, keeping their names.
    func copy(fixtures: [String]) throws {
        for fixture in fixtures {
            try write((fixture as NSString).lastPathComponent, try Fixtures.text(fixture))
        }
    }

    /// The name the loader gives `file` in diagnostics.
    func file(_ name: String) -> String { path + "/" + name }

    func load(environment: [String: String] = ["REFIT_TEST_ML_KEY": "test-key"]) -> LoadResult {
        DefinitionLoader.load(directory: path, environment: environment)
    }
}

enum Fixtures {
    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String { "fixture \(name) not found" }
    }

    static func url(_ name: String) throws -> URL {
        guard let root = Bundle.module.resourceURL?.appendingPathComponent("Fixtures") else { throw Missing(name: name) }
        let url = root.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw Missing(name: name) }
        return url
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: try url(name), encoding: .utf8)
    }
}

extension LoadResult {
    /// One line per diagnostic, for test failure messages.
    var report: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Runs CPU-heavy work (a multi-megabyte parse) on a thread of its own: tests run in parallel,
/// and occupying Swift's small cooperative pool would delay every other test's timers.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let result: Result<T, any Error> = await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: Result { try body() }) }.start()
    }
    return try result.get()
}
