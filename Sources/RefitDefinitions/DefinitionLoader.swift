#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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

    /// The largest definition file read: real definitions are a few kilobytes, and the bound
    /// keeps a stray data file (or a hostile one) from costing gigabytes of parse memory.
    public static let maximumFileSize = 4 * 1024 * 1024

    /// Loads and validates every definition file under `directory` (recursively, in sorted
    /// order). Files are named relative to the current directory as the caller wrote the
    /// folder, e.g. `schedules/pipeline.json`.
    ///
    /// Hidden files and folders (`.git`, and Kubernetes ConfigMap's `..data` and
    /// `..2024_01_01`) are skipped; symbolic links to files and folders are followed, so a
    /// ConfigMap mount, whose visible names are links into the hidden folders, reads as a
    /// plain folder. A file or folder reached through several links is read once, which also
    /// ends link loops. Whatever cannot be read (permission denied, a FIFO, a dangling link) is
    /// an error naming the path and the reason, never silently skipped: its entities would go
    /// missing and show up only as "not defined".
    ///
    /// - Parameters:
    ///   - environment: checked for `{"env": NAME}` secrets (unset → warning); nil skips the check.
    ///   - fileSystem: the files; tests inject failures here.
    public static func load(directory: String,
                            environment: [String: String]? = ProcessInfo.processInfo.environment,
                            fileSystem: any DefinitionFileSystem = LocalFileSystem()) -> LoadResult {
        let folderPosition = SourcePosition(file: directory, line: 1, column: 1)
        switch fileSystem.entry(atPath: directory) {
        case .directory:
            break
        case .unreadable(let problem):
            let missing = problem == .posix(ENOENT)
            return LoadResult(factory: nil, diagnostics: [.error(folderPosition, missing
                ? "the schedules folder '\(directory)' does not exist"
                : "cannot read the schedules folder '\(directory)': \(problem.reason)")], files: [])
        case .file, .other:
            return LoadResult(factory: nil, diagnostics: [.error(folderPosition, "'\(directory)' is not a folder; --schedules names the folder that holds the definitions")], files: [])
        }
        let listing = definitionFiles(in: directory, fileSystem: fileSystem)
        var diagnostics = listing.problems
        guard !listing.paths.isEmpty else {
            if diagnostics.isEmpty {
                diagnostics.append(.error(folderPosition, "the schedules folder '\(directory)' holds no definition files (*.json, *.yaml, *.yml)"))
            }
            return LoadResult(factory: nil, diagnostics: diagnostics, files: [])
        }
        var documents: [DefinitionDocument] = []
        var files: [String] = []
        for file in listing.paths {
            let name = displayName(directory: directory, relative: file.relative)
            files.append(name)
            let result = read(path: name, name: name, size: file.size, fileSystem: fileSystem)
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
        return LoadResult(factory: hasErrors ? nil : validation.factory, diagnostics: capped(diagnostics), files: files)
    }

    /// The most diagnostics shown per file; a generated or pasted file with thousands of
    /// problems gets these and one line counting the rest, not a screenful per problem.
    public static let maximumDiagnosticsPerFile = 100

    /// `diagnostics` (sorted by file) with at most `maximumDiagnosticsPerFile` per file, the rest
    /// summed up in one more diagnostic of the same severity as the worst one left out.
    static func capped(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        var result: [Diagnostic] = []
        var index = 0
        while index < diagnostics.count {
            let file = diagnostics[index].position.file
            var end = index
            while end < diagnostics.count && diagnostics[end].position.file == file { end += 1 }
            let group = diagnostics[index..<end]
            if group.count <= maximumDiagnosticsPerFile {
                result += group
            } else {
                let shown = group.prefix(maximumDiagnosticsPerFile)
                let rest = group.dropFirst(maximumDiagnosticsPerFile)
                result += shown
                let severity: Diagnostic.Severity = rest.contains { $0.severity == .error } ? .error : .warning
                result.append(Diagnostic(severity, at: rest.first!.position,
                                         "\(rest.count) more problems in this file are not shown"))
            }
            index = end
        }
        return result
    }

    /// Parses one definition text by its extension (`.yaml`/`.yml` → YAML, else JSON).
    public static func parse(_ text: String, file: String) -> JSONReader.Result {
        let ext = (file as NSString).pathExtension.lowercased()
        if ext == "yaml" || ext == "yml" { return YAMLReader.read(text, file: file) }
        return JSONReader.read(text, file: file)
    }

    static func read(path: String, name: String, size: Int64, fileSystem: any DefinitionFileSystem) -> JSONReader.Result {
        let start = SourcePosition(file: name, line: 1, column: 1)
        if size > Int64(maximumFileSize) {
            return JSONReader.Result(root: nil, diagnostics: [.error(start, "the file is \(describe(bytes: Int(clamping: size))), "
                + "over the \(describe(bytes: maximumFileSize)) limit for a definition file; is it a data file in the schedules folder?")])
        }
        let data: Data
        do {
            data = try fileSystem.contents(atPath: path, limit: maximumFileSize)
        } catch {
            return JSONReader.Result(root: nil, diagnostics: [.error(start, "cannot read the file: \(error.reason)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return JSONReader.Result(root: nil, diagnostics: [.error(firstInvalidUTF8(data, file: name), "the file is not valid UTF-8 text")])
        }
        return parse(text, file: name)
    }

    /// `1536` → "1.5 KiB"; `4194304` → "4 MiB".
    static func describe(bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(bytes) bytes" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded)) \(units[unit])" : "\(rounded) \(units[unit])"
    }

    /// A definition file found under the schedules folder.
    struct FoundFile {
        /// The path below the folder, through the links as found.
        var relative: String
        var size: Int64
    }

    /// The definition files below `directory` (sorted by relative path, each file once) and
    /// an error for every entry that may hold definitions but cannot be read. An entry is
    /// worth an error when its name has a definition extension, or none at all (a dangling
    /// link without an extension may have been a folder of definitions).
    static func definitionFiles(in directory: String, fileSystem: any DefinitionFileSystem)
        -> (paths: [FoundFile], problems: [Diagnostic]) {
        var found: [(file: FoundFile, id: FileIdentity)] = []
        var problems: [Diagnostic] = []
        var visitedFolders: Set<FileIdentity> = []
        if case .directory(let id) = fileSystem.entry(atPath: directory) { visitedFolders.insert(id) }

        func walk(_ relative: String) {
            let folderPath = relative.isEmpty ? directory : displayName(directory: directory, relative: relative)
            let names: [String]
            do {
                names = try fileSystem.contentsOfDirectory(atPath: folderPath)
            } catch {
                problems.append(.error(SourcePosition(file: folderPath, line: 1, column: 1), "cannot read the folder: \(error.reason)"))
                return
            }
            for name in names.sorted() where !name.hasPrefix(".") {
                let child = relative.isEmpty ? name : relative + "/" + name
                let path = displayName(directory: directory, relative: child)
                let ext = (name as NSString).pathExtension.lowercased()
                let mayHoldDefinitions = fileExtensions.contains(ext) || ext.isEmpty
                let at = SourcePosition(file: path, line: 1, column: 1)
                switch fileSystem.entry(atPath: path) {
                case .directory(let id):
                    guard visitedFolders.insert(id).inserted else { continue }
                    walk(child)
                case .file(let id, let size):
                    if fileExtensions.contains(ext) { found.append((FoundFile(relative: child, size: size), id)) }
                case .other(let kind):
                    if mayHoldDefinitions { problems.append(.error(at, "cannot read the file: it is \(kind), not a regular file")) }
                case .unreadable(let problem):
                    if mayHoldDefinitions { problems.append(.error(at, "cannot read '\(name)': \(problem.reason)")) }
                }
            }
        }
        walk("")
        found.sort { $0.file.relative < $1.file.relative }
        var seen: Set<FileIdentity> = []
        let paths = found.filter { seen.insert($0.id).inserted }.map(\.file)
        return (paths, problems)
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
