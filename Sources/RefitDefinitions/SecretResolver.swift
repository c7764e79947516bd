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

    public init(_ code: Code, reference: String) { self.code = code; self.reference = reference }

    public var description: String {
        switch code {
        case .environmentVariableUnset: return "the secret's environment variable \(reference) is not set"
        case .environmentVariableEmpty: return "the secret's environment variable \(reference) is empty"
        case .fileUnreadable: return "the secret file \(reference) cannot be read"
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

    public func resolve(_ secret: Secret) throws(SecretError) -> String {
        let base = baseDirectory
        return try secret.resolve(environment: environment) { path in
            try String(contentsOfFile: SecretResolver.resolvePath(path, base: base), encoding: .utf8)
        }
    }

    /// `path` if absolute (or `~/`-relative), else `base/path`.
    public static func resolvePath(_ path: String, base: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/") { return (path as NSString).expandingTildeInPath }
        return URL(fileURLWithPath: base).appendingPathComponent(path).path
    }
}
