import Foundation

/// Hides secrets (credentials in headers, signatures and keys in query strings) before text reaches a
/// log line or an error message.
///
/// Every description the HTTP client produces passes through a `Redactor`, and other modules should use
/// one for URLs they log: a SAS signature or an API key in a log file is a leaked credential.
public struct Redactor: Sendable {
    /// What replaces a secret value.
    public static let placeholder = "<redacted>"

    /// Lower-cased header names whose values are always hidden.
    public private(set) var secretHeaderNames: Set<String>
    /// Lower-cased query parameter names whose values are always hidden.
    public private(set) var secretQueryParameters: Set<String>

    /// The default rules: `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`,
    /// `Ocp-Apim-Subscription-Key`, `x-amz-security-token`, any `x-ms-*key*` header, and the query
    /// parameters `sig`, `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`, `code`, `key`,
    /// `apikey`, `api_key`, `token`.
    public static let standard = Redactor(
        secretHeaderNames: [
            "authorization", "proxy-authorization", "cookie", "set-cookie",
            "ocp-apim-subscription-key", "x-amz-security-token", "x-api-key",
        ],
        secretQueryParameters: [
            "sig", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
            "code", "key", "apikey", "api_key", "token",
        ])

    /// Creates a redactor with exactly these rules (names are matched case-insensitively).
    public init(secretHeaderNames: Set<String> = [], secretQueryParameters: Set<String> = []) {
        self.secretHeaderNames = Set(secretHeaderNames.map { $0.lowercased() })
        self.secretQueryParameters = Set(secretQueryParameters.map { $0.lowercased() })
    }

    /// Marks one more header as secret, e.g. a service-specific API-key header.
    public mutating func registerSecretHeader(_ name: String) {
        secretHeaderNames.insert(name.lowercased())
    }

    /// Marks one more query parameter as secret.
    public mutating func registerSecretQueryParameter(_ name: String) {
        secretQueryParameters.insert(name.lowercased())
    }

    /// A copy with extra secret headers, for building a configuration in one expression.
    public func addingSecretHeaders(_ names: some Sequence<String>) -> Redactor {
        var copy = self
        for name in names { copy.registerSecretHeader(name) }
        return copy
    }

    /// Whether a header's value must never be shown. `x-ms-*key*` headers (Azure account and
    /// function keys) are secret by pattern.
    public func isSecretHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        if secretHeaderNames.contains(lower) { return true }
        return lower.hasPrefix("x-ms-") && lower.contains("key")
    }

    /// The value to show for a header.
    public func displayValue(forHeader name: String, value: String) -> String {
        isSecretHeader(name) ? Self.placeholder : value
    }

    /// `Name: value` lines joined by `, `, secret values hidden.
    public func describe(headers: HTTPHeaders) -> String {
        headers.map { "\($0.name): \(displayValue(forHeader: $0.name, value: $0.value))" }
            .joined(separator: ", ")
    }

    /// The URL with secret query values and any password in the user-info replaced by the placeholder.
    /// Works on the raw string so the rest of the URL is shown exactly as sent.
    public func redact(url: String) -> String {
        var head = Substring(url)
        var fragment: Substring = ""
        if let hash = head.firstIndex(of: "#") {
            fragment = head[hash...]
            head = head[..<hash]
        }
        var query: Substring?
        if let mark = head.firstIndex(of: "?") {
            query = head[head.index(after: mark)...]
            head = head[..<mark]
        }
        var result = redactUserInfo(String(head))
        if let query {
            result += "?" + redact(query: query)
        }
        return result + fragment
    }

    /// Redacts an already separated query string (`a=1&sig=...`).
    public func redact(query: Substring) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let eq = pair.firstIndex(of: "=") else { return String(pair) }
            let name = pair[..<eq]
            let decoded = (String(name).removingPercentEncoding ?? String(name)).lowercased()
            return secretQueryParameters.contains(decoded) ? "\(name)=\(Self.placeholder)" : String(pair)
        }.joined(separator: "&")
    }

    /// Replaces each of `secrets` (exact values known to be secret, such as the Authorization value just
    /// sent) and any `name=value` secret query pair found in free text such as a server's error body.
    public func redact(text: String, secrets: [String] = []) -> String {
        var result = text
        for secret in secrets where secret.count >= 4 {
            result = result.replacingAll(secret, with: Self.placeholder)
        }
        // Secret query parameters that appear inside free text (for example an echoed URL).
        for name in secretQueryParameters {
            result = result.redactingAssignments(of: name)
        }
        return result
    }

    private func redactUserInfo(_ head: String) -> String {
        guard let scheme = head.range(of: "://") else { return head }
        let authorityStart = scheme.upperBound
        let rest = head[authorityStart...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return head }
        let userInfo = authority[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return head }
        return String(head[..<authorityStart]) + userInfo[..<colon] + ":" + Self.placeholder
            + String(head[at...])
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }

    /// Replaces the value in `name=value` (case-insensitive name, preceded by a non-identifier
    /// character) up to the next `&`, whitespace or quote.
    fileprivate func redactingAssignments(of name: String) -> String {
        let chars = Array(self)
        let needle = Array(name.lowercased() + "=")
        guard chars.count >= needle.count else { return self }
        var out: [Character] = []
        out.reserveCapacity(chars.count)
        var i = 0
        while i < chars.count {
            let boundary = i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber
                || chars[i - 1] == "_" || chars[i - 1] == "-")
            if boundary, i + needle.count <= chars.count,
               zip(chars[i..<(i + needle.count)], needle).allSatisfy({ $0.lowercased() == String($1) }) {
                out.append(contentsOf: chars[i..<(i + needle.count)])
                i += needle.count
                let start = i
                while i < chars.count, !" \t\r\n&\"'<>,;".contains(chars[i]) { i += 1 }
                if i > start { out.append(contentsOf: Redactor.placeholder) }
                continue
            }
            out.append(chars[i])
            i += 1
        }
        return String(out)
    }
}
