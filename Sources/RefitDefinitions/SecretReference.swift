import Foundation
import RefitCore

/// A secret named on the command line (`--db-password`) the way definitions name one:
/// `{"file": "PATH"}` or `{"env": "NAME"}`. A literal value is refused — typed on a command line
/// it would stay in the shell's history and show in `ps` — as is anything else.
public enum SecretReference {
    /// Why the text is not a secret reference, as one sentence naming the option.
    public struct Invalid: Error, Sendable, Equatable {
        public var message: String
    }

    /// Parses `text` into a file or environment secret; resolve it with `SecretResolver`.
    public static func parse(_ text: String, option: String) throws(Invalid) -> Secret {
        let forms = "{\"file\": \"/path\"} or {\"env\": \"NAME\"}"
        guard text.trimmingCharacters(in: .whitespaces).hasPrefix("{"),
              let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw Invalid(message: "\(option) takes a secret reference, \(forms), not the password itself, which would stay in shell history and show in ps.")
        }
        guard object.count == 1, let (key, value) = object.first, let name = value as? String, !name.isEmpty,
              key == "file" || key == "env" else {
            throw Invalid(message: "\(option) must be \(forms) with one non-empty string; found keys \(object.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")).")
        }
        if key == "file" { return Secret(.file(name)) }
        guard DefinitionDecoder.isEnvironmentName(name) else {
            throw Invalid(message: "\(option): '\(name)' is not an environment variable name (letters, digits and '_', not starting with a digit).")
        }
        return Secret(.environment(name))
    }
}
