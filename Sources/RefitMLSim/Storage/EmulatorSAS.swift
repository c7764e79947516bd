import Crypto
import Foundation

/// HMAC-signed read tokens in the shape of a service SAS (`sv`, `sr`, `sp`, `se`, `sig`).
///
/// The emulator's stand-in until an Azure-faithful blob service is plugged in: tokens are bound to
/// one blob, expire, and every issued token carries a strictly later expiry, so two status GETs
/// never return the same signature.
public final class EmulatorSAS: @unchecked Sendable {
    private let accountName: String
    private let key: SymmetricKey
    private let now: @Sendable () -> Date
    private let lock = NSLock()
    private var lastExpiry = Date.distantPast

    /// Version tag carried in `sv`, so a token is recognisably the emulator's.
    public static let version = "emu1"

    public init(accountName: String, accountKey: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.accountName = accountName
        let keyBytes = Data(base64Encoded: accountKey) ?? Data(accountKey.utf8)
        self.key = SymmetricKey(data: keyBytes)
        self.now = now
    }

    /// A fresh read token for one blob.
    public func readToken(container: String, blob: String, validFor: Duration) -> String {
        let seconds = Double(validFor.components.seconds) + Double(validFor.components.attoseconds) / 1e18
        let expiry: Date = lock.withLock {
            var candidate = now().addingTimeInterval(seconds)
            if candidate <= lastExpiry { candidate = lastExpiry.addingTimeInterval(0.001) }
            lastExpiry = candidate
            return candidate
        }
        let se = Self.format(expiry)
        let sig = signature(permissions: "r", expiry: se, container: container, blob: blob)
        return "?sv=\(Self.version)&sr=b&sp=r&se=\(Self.encode(se))&sig=\(Self.encode(sig))"
    }

    /// Whether the token grants read access to the blob right now.
    public func isValidRead(_ token: String, container: String, blob: String) -> Bool {
        let items = Self.parseQuery(token)
        guard items["sv"] == Self.version, items["sr"] == "b",
              let sp = items["sp"], sp.contains("r"),
              let se = items["se"], let expiry = Self.parse(se), expiry > now(),
              let sig = items["sig"] else { return false }
        let expected = signature(permissions: sp, expiry: se, container: container, blob: blob)
        return Self.constantTimeEquals(Array(expected.utf8), Array(sig.utf8))
    }

    private func signature(permissions: String, expiry: String, container: String, blob: String) -> String {
        let message = "\(permissions)\n\(expiry)\n/\(accountName)/\(container)/\(blob)\n\(Self.version)"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return Data(mac).base64EncodedString()
    }

    /// Parses `?a=b&c=d` (leading `?` optional) into percent-decoded items.
    public static func parseQuery(_ query: String) -> [String: String] {
        var text = Substring(query)
        if text.hasPrefix("?") { text = text.dropFirst() }
        var items: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let raw = parts.count > 1 ? String(parts[1]) : ""
            items[name] = raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? raw
        }
        return items
    }

    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func parse(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }

    private static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
