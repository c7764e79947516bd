import Foundation
import RefitCore

/// The outcome of loading a schedules folder.
public struct LoadResult: Sendable {
    /// The resolved definitions; nil when any diagnostic is an error.
    public var factory: Factory?
    /// Every problem found, sorted by file, line and column.
    public var diagnostics: [Diagnostic]
    /// The definition files read, as named in diagnostics, in load order.
    public var files: [String]

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Reads a schedules folder (`--schedules`, default `./schedules`): every `*.json`, `*.yaml`
/// and `*.yml` below it, one entity per file, into a validated `Factory`.
public enum DefinitionLoader {
    public static let fileExtensions: Set<String> = ["json", "yaml", "yml"]

    /// Loads and validates every definition file under `directory` (recursively, in sorted
    /// order; hidden files and folders are skipped). Files are named relative to the current
    /// directory as the caller wrote the folder, e.g. `schedules/pipeline.json`.
    ///
    /// - Parameters:
    ///   - environment: checked for `{"env": NAME}` secrets (unset → warning); nil skips the check.
    public static func load(directory: String,
                            environment: [String: String]? = ProcessInfo.processInfo.environment) -> LoadResult {
        let fileManager = FileManager.default
        let folderPosition = SourcePosition(file: directory, line: 1, column: 1)
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            return LoadResult(factory: nil, diagnostics: [.error(folderPosition, "the schedules folder '\(directory)' does not exist")], files: [])
        }
        guard isDirectory.boolValue else {
            return LoadResult(factory: nil, diagnostics: [.error(folderPosition, "'\(directory)' is not a folder; --schedules names the folder that holds the definitions")], files: [])
        }
        let relativePaths = definitionFiles(in: directory)
        guard !relativePaths.isEmpty else {
            return LoadResult(factory: nil, diagnostics: [.error(folderPosition, "the schedules folder '\(directory)' holds no definition files (*.json, *.yaml, *.yml)")], files: [])
        }
        var diagnostics: [Diagnostic] = []
        var documents: [DefinitionDocument] = []
        var files: [String] = []
        for relative in relativePaths {
            let name = displayName(directory: directory, relative: relative)
            files.append(name)
            let url = URL(fileURLWithPath: directory).appendingPathComponent(relative)
            let result = read(url: url, name: name)
            diagnostics += result.diagnostics
            if let root = result.root {
                documents.append(DefinitionDocument(file: name, root: root))
            } else if let partial = result.partialRoot {
                documents.append(DefinitionDocument(file: name, root: partial, isPartial: true))
            }
        }
        let base = directory
        let options = ValidationOptions(
            environment: environment,
            secretFileExists: { path in FileManager.default.isReadableFile(atPath: SecretResolver.resolvePath(path, base: base)) })
        let validation = DefinitionValidator.validate(documents, options: options)
        diagnostics += validation.diagnostics
        diagnostics.sort { ($0.position, $0.message) < ($1.position, $1.message) }
        let hasErrors = diagnostics.contains { $0.severity == .error }
        return LoadResult(factory: hasErrors ? nil : validation.factory, diagnostics: diagnostics, files: files)
    }

    /// Parses one definition text by its extension (`.yaml`/`.yml` → YAML, else JSON).
    public static func parse(_ text: String, file: String) -> JSONReader.Result {
        let ext = (file as NSString).pathExtension.lowercased()
        if ext == "yaml" || ext == "yml" { return YAMLReader.read(text, file: file) }
        return JSONReader.read(text, file: file)
    }

    static func read(url: URL, name: String) -> JSONReader.Result {
        let start = SourcePosition(file: name, line: 1, column: 1)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            return JSONReader.Result(root: nil, diagnostics: [.error(start, "cannot read the file: \(error.localizedDescription)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return JSONReader.Result(root: nil, diagnostics: [.error(firstInvalidUTF8(data, file: name), "the file is not valid UTF-8 text")])
        }
        return parse(text, file: name)
    }

    /// Sorted paths (relative to `directory`) of the definition files below it.
    static func definitionFiles(in directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let components = relative.split(separator: "/")
            if components.contains(where: { $0.hasPrefix(".") }) {
                if let last = components.last, last.hasPrefix(".") { enumerator.skipDescendants() }
                continue
            }
            let ext = (relative as NSString).pathExtension.lowercased()
            guard fileExtensions.contains(ext) else { continue }
            var isDirectory: ObjCBool = false
            let full = URL(fileURLWithPath: directory).appendingPathComponent(relative).path
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            paths.append(relative)
        }
        return paths.sorted()
    }

    /// `schedules` + `a/b.json` → `schedules/a/b.json`; `.` + `b.json` → `b.json`.
    static func displayName(directory: String, relative: String) -> String {
        var folder = directory
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        if folder == "." || folder == "./" { return relative }
        return folder == "/" ? "/" + relative : folder + "/" + relative
    }

    /// The line and column of the first byte that is not valid UTF-8.
    static func firstInvalidUTF8(_ data: Data, file: String) -> SourcePosition {
        var line = 1, column = 1
        var iterator = data.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            case .emptyInput: break loop
            case .error: break loop
            }
        }
        return SourcePosition(file: file, line: line, column: column)
    }
}
