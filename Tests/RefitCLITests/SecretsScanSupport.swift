import Foundation
import RefitTestKit

/// One secret the scan looks for, by a name that is safe to print.
struct ScannedSecret: Sendable {
    var name: String
    var value: String
    /// A random token (key, signature): its first and last 16 characters alone are a leak too.
    var random: Bool = true
}

/// Everything Refit wrote or printed during a test, labelled by where it came from.
final class SecretEvidence: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var items: [(label: String, data: Data)] = []

    func add(_ label: String, _ data: Data) {
        lock.lock(); defer { lock.unlock() }
        items.append((label, data))
    }

    func add(_ label: String, _ text: String) { add(label, Data(text.utf8)) }

    /// A command's stdout and stderr.
    func add(_ label: String, _ result: ProcessResult) {
        add("\(label) [stdout]", result.stdout)
        add("\(label) [stderr]", result.stderr)
    }

    /// The bytes of `path` (and of its `-wal` and `-shm` files), when they exist.
    func addDatabaseFiles(_ path: String, moment: String) {
        for suffix in ["", "-wal", "-shm"] {
            if let data = FileManager.default.contents(atPath: path + suffix) {
                add("database file \((path as NSString).lastPathComponent)\(suffix) (\(moment))", data)
            }
        }
    }

    /// Every regular file under `root`, except `excluding` (paths).
    func addFiles(under root: URL, excluding: Set<String>, moment: String) {
        let base = root.resolvingSymlinksInPath().path
        for case let url as URL in FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) ?? FileManager.DirectoryEnumerator() {
            let path = url.resolvingSymlinksInPath().path
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  !excluding.contains(path), let data = FileManager.default.contents(atPath: path) else { continue }
            add("file \(path.hasPrefix(base) ? String(path.dropFirst(base.count + 1)) : path) (\(moment))", data)
        }
    }
}

/// The byte strings that betray a secret: raw, JSON-escaped, URL-encoded, base64, base64-decoded
/// (for keys that are base64), and for random tokens their first and last 16 characters.
struct SecretNeedle {
    var secret: String
    var form: String
    var bytes: Data
}

enum SecretScan {
    static func needles(_ secrets: [ScannedSecret]) -> [SecretNeedle] {
        var out: [SecretNeedle] = []
        for secret in secrets where !secret.value.isEmpty {
            var forms: [(String, Data)] = [("raw", Data(secret.value.utf8))]
            let jsonEscaped = secret.value.replacingOccurrences(of: "/", with: "\\/")
            if jsonEscaped != secret.value { forms.append(("JSON-escaped", Data(jsonEscaped.utf8))) }
            var unreserved = CharacterSet.alphanumerics
            unreserved.insert(charactersIn: "-._~")
            if let encoded = secret.value.addingPercentEncoding(withAllowedCharacters: unreserved), encoded != secret.value {
                forms.append(("URL-encoded", Data(encoded.utf8)))
                let lower = encoded.lowercasedPercentEscapes()
                if lower != encoded { forms.append(("URL-encoded (lowercase)", Data(lower.utf8))) }
            }
            forms.append(("base64", Data(Data(secret.value.utf8).base64EncodedString().utf8)))
            if secret.random, let decoded = Data(base64Encoded: secret.value), decoded.count >= 16 {
                forms.append(("base64-decoded bytes", decoded))
            }
            if secret.random, secret.value.count >= 24 {
                forms.append(("first 16 characters", Data(secret.value.prefix(16).utf8)))
                forms.append(("last 16 characters", Data(secret.value.suffix(16).utf8)))
            }
            out += forms.map { SecretNeedle(secret: secret.name, form: $0.0, bytes: $0.1) }
        }
        return out
    }

    /// Shapes that are secrets whatever their value: a SAS signature, an account key in a
    /// connection string, a bearer token.
    static let patterns: [(name: String, regex: NSRegularExpression)] = [
        ("a SAS signature (sig=…)", try! NSRegularExpression(pattern: #"(?i)\bsig(=|%3D)[A-Za-z0-9%+/]{10,}"#)),
        ("an AccountKey= value", try! NSRegularExpression(pattern: #"(?i)AccountKey=[A-Za-z0-9%+/]{8,}"#)),
        ("a SharedAccessSignature= value", try! NSRegularExpression(pattern: #"(?i)SharedAccessSignature=[^;"\s]{8,}"#)),
        ("a bearer token", try! NSRegularExpression(pattern: #"(?i)Bearer\s+[A-Za-z0-9+/=._-]{16,}"#)),
    ]

    /// One line per hit: which secret (by name), in which form, where, with the text before it
    /// (secrets masked) so the field can be told. Empty when nothing leaked.
    static func findings(in evidence: SecretEvidence, secrets: [ScannedSecret]) -> [String] {
        let needles = needles(secrets)
        var lines: [String] = []
        for item in evidence.items {
            for needle in needles {
                guard let range = item.data.range(of: needle.bytes) else { continue }
                lines.append("secret '\(needle.secret)' (\(needle.form)) in \(item.label) at byte \(range.lowerBound - item.data.startIndex): "
                             + "…\(context(item.data, at: range, needles: needles))")
            }
            let text = String(decoding: item.data, as: UTF8.self)
            for pattern in patterns {
                let all = NSRange(text.startIndex..., in: text)
                guard let match = pattern.regex.firstMatch(in: text, range: all), let found = Range(match.range, in: text) else { continue }
                let before = mask(String(text[text.index(found.lowerBound, offsetBy: -min(120, text.distance(from: text.startIndex, to: found.lowerBound)))..<found.lowerBound]),
                                  needles: needles)
                lines.append("\(pattern.name) in \(item.label): …\(before.suffix(120))«\(text[found].prefix(4))…»")
            }
        }
        return lines
    }

    /// Up to 120 characters before the hit, secrets masked, then a marker for the secret.
    private static func context(_ data: Data, at range: Range<Data.Index>, needles: [SecretNeedle]) -> String {
        let start = max(data.startIndex, range.lowerBound - 400)
        let before = mask(String(decoding: data[start..<range.lowerBound], as: UTF8.self), needles: needles)
        return before.suffix(120).replacingOccurrences(of: "\n", with: "⏎") + "«SECRET»"
    }

    private static func mask(_ text: String, needles: [SecretNeedle]) -> String {
        var text = text
        for needle in needles.sorted(by: { $0.bytes.count > $1.bytes.count }) {
            if let value = String(data: needle.bytes, encoding: .utf8), !value.isEmpty {
                text = text.replacingOccurrences(of: value, with: "«\(needle.secret)»")
            }
        }
        return text
    }

    /// The `sig` value of a SAS token or URL query (percent-decoded), if any.
    static func signature(inQuery query: String) -> String? {
        var components = URLComponents()
        components.percentEncodedQuery = query.hasPrefix("?") ? String(query.dropFirst()) : query
        return components.queryItems?.first { $0.name == "sig" }?.value
    }

    /// Every `SasBlobToken` string anywhere in a JSON value.
    static func sasTokens(in json: Any) -> [String] {
        if let object = json as? [String: Any] {
            return object.flatMap { key, value in
                key == "SasBlobToken" ? [value as? String].compactMap { $0 } : sasTokens(in: value)
            }
        }
        if let array = json as? [Any] { return array.flatMap { sasTokens(in: $0) } }
        return []
    }

    /// Every table of the database, dumped by Python's sqlite3 (read-only): one value a line,
    /// blobs as their raw bytes.
    static func pythonDump(_ path: String) throws -> ProcessResult {
        try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
            out = sys.stdout.buffer
            tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for t in tables:
                out.write(('== table %s\\n' % t).encode())
                for row in c.execute('SELECT * FROM "%s"' % t.replace('"', '""')):
                    for v in row:
                        out.write(v if isinstance(v, bytes) else str(v).encode('utf-8', 'surrogatepass'))
                        out.write(b'\\t')
                    out.write(b'\\n')
            out.flush()
            """, path])
    }
}

private extension String {
    /// `%2F` → `%2f`, for encoders that write lowercase hex.
    func lowercasedPercentEscapes() -> String {
        var out = ""
        var rest = Substring(self)
        while let percent = rest.firstIndex(of: "%") {
            out += rest[..<percent]
            let escape = rest[percent...].prefix(3)
            out += escape.lowercased()
            rest = rest[escape.endIndex...]
        }
        return out + rest
    }
}
