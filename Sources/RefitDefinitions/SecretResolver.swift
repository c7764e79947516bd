import Foundation
import RefitCore

/// Why a secret could not be resolved. Its description names the reference (variable or file)
/// and never a secret value.
public struct SecretError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        case environmentVariableUnset
        case environmentVariableEmpty
        case fileUnreadable
        case fileEmpty
    }

    public var code: Code
    /// The variable name or file path, never the value.
    public var reference: String
    /// Why a secret file cannot be read ("permission denied"), when known.
    public var reason: String?

    public init(_ code: Code, reference: String, reason: String? = nil) {
        self.code = code; self.reference = reference; self.reason = reason
    }

    public var description: String {
        switch code {
        case .environmentVariableUnset: return "the secret's environment variable \(reference) is not set"
        case .environmentVariableEmpty: return "the secret's environment variable \(reference) is empty"
        case .fileUnreadable: return "the secret file \(reference) cannot be read" + (reason.map { ": \($0)" } ?? "")
        case .fileEmpty: return "the secret file \(reference) is empty"
        }
    }
}

extension Secret {
    /// The secret's value: a literal as written, an environment variable's value, or a file's
    /// contents without trailing line breaks. `readFile` gets the path as written.
    public func resolve(environment: [String: String], readFile: (String) throws -> String) throws(SecretError) -> String {
        switch source {
        case .literal(let value):
            return value
        case .environment(let name):
            guard let value = environment[name] else { throw SecretError(.environmentVariableUnset, reference: name) }
            guard !value.isEmpty else { throw SecretError(.environmentVariableEmpty, reference: name) }
            return value
        case .file(let path):
            let contents: String
            do {
                contents = try readFile(path)
            } catch let error as FileReadError {
                throw SecretError(.fileUnreadable, reference: path, reason: error.reason)
            } catch {
                throw SecretError(.fileUnreadable, reference: path)
            }
            var value = Substring(contents)
            while let last = value.last, last == "\n" || last == "\r" || last == "\r\n" { value = value.dropLast() }
            guard !value.isEmpty else { throw SecretError(.fileEmpty, reference: path) }
            return String(value)
        }
    }
}

/// Resolves secrets for the worker: `{"env": NAME}` from an environment, `{"file": PATH}` from
/// disk, relative paths against the schedules folder.
public struct SecretResolver: Sendable {
    public var environment: [String: String]
    /// The schedules folder, against which relative secret file paths are resolved.
    public var baseDirectory: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, baseDirectory: String) {
        self.environment = environment
        self.baseDirectory = baseDirectory
    }

    /// The largest secret file read: a key or a connection string is far smaller, and a path
    /// that names a device or a log file must not be read whole.
    public static let maximumFileSize = 64 * 1024

    public func resolve(_ secret: Secret) throws(SecretError) -> String {
        let base = baseDirectory
        return try secret.resolve(environment: environment) { path in
            try SecretResolver.readFile(SecretResolver.resolvePath(path, base: base))
        }
    }

    /// A secret file's text: a regular file of at most `maximumFileSize` bytes of UTF-8.
    static func readFile(_ path: String) throws(FileReadError) -> String {
        let files = LocalFileSystem()
        switch files.entry(atPath: path) {
        case .file: break
        case .directory: throw FileReadError("it is a folder")
        case .other(let kind): throw FileReadError("it is \(kind), not a regular file")
        case .unreadable(let problem): throw problem
        }
        let data = try files.contents(atPath: path, limit: maximumFileSize)
        guard let text = String(data: data, encoding: .utf8) else { throw FileReadError("it is not UTF-8 text") }
        return text
    }

    /// `path` if absolute (or `~/`-relative), else `base/path`, as
    /// `URL(fileURLWithPath: base).appendingPathComponent(path).path` gives it. With an absolute
    /// `base` that is a join on the text, without `URL`'s first-use cost (a few tenths of a
    /// millisecond at every worker's start); a relative `base` goes through `URL`, which also
    /// resolves its `.` and `..` against the current directory.
    public static func resolvePath(_ path: String, base: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/") { return (path as NSString).expandingTildeInPath }
        guard base.hasPrefix("/") else { return URL(fileURLWithPath: base).appendingPathComponent(path).path }
        func trimmed<S: StringProtocol>(_ text: S) -> Substring {
            var text = Substring(text)
            while text.hasSuffix("/") { text = text.dropLast() }
            return text
        }
        let joined = trimmed(base) + "/" + trimmed(path)
        return joined.count > 1 && joined.hasSuffix("/") ? String(trimmed(joined)) : String(joined)
    }

    /// `path` against the current directory when it is relative.
    public static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return "/" + path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }
}
