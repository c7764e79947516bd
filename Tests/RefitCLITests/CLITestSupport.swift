import Foundation
import RefitTestKit

/// Runs the built `refit` binary from the package root.
func refit(_ arguments: String..., environment: [String: String]? = nil) throws -> ProcessResult {
    try runProcess(BuiltProducts.executable("refit"), arguments, environment: environment,
                   currentDirectory: BuiltProducts.packageRoot)
}

/// A scratch folder of definitions for one test, removed at the end.
struct ScratchSchedules {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("refit-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func write(_ relativePath: String, _ contents: String) throws {
        let url = root.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Copies the repository's example schedules in, to start from a valid factory.
    func copyExample() throws {
        let source = BuiltProducts.packageRoot.appendingPathComponent("schedules")
        for case let file as URL in FileManager.default.enumerator(at: source, includingPropertiesForKeys: nil) ?? FileManager.DirectoryEnumerator() {
            guard file.pathExtension == "json" else { continue }
            let relative = String(file.path.dropFirst(source.path.count + 1))
            try write(relative, String(contentsOf: file, encoding: .utf8))
        }
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}
