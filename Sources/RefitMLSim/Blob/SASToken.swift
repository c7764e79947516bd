import Foundation

/// What a request wants to do, for checking a SAS token's `sp` field.
public enum SASPermission: Character, Sendable, CaseIterable {
    case read = "r", add = "a", create = "c", write = "w", delete = "d", list = "l"
}

/// A service shared access signature (SAS) for a blob (`sr=b`) or a container (`sr=c`), or an account SAS
/// (`ss`, `srt`) for the Blob service, signed with the account key exactly as Azure documents it, so tokens
/// from the Azure SDKs' `generate_blob_sas` / `generate_container_sas` / `generate_account_sas` verify here
/// and tokens minted here work with any Azure client.
///
/// String to sign (version 2020-12-06 and later; older versions omit `ses`, before 2018-11-09 also `sr` and
/// the snapshot time): `sp \n st \n se \n /blob/<account>/<container>[/<blob>] \n si \n sip \n spr \n sv \n
/// sr \n snapshot-time \n ses \n rscc \n rscd \n rsce \n rscl \n rsct`.
public struct SASToken: Sendable {
    /// The SAS version this emulator mints; its string-to-sign has the encryption-scope line.
    public static let mintedVersion = "2020-12-06"
    /// The oldest version whose string-to-sign is implemented (with `sip`/`spr` and `/blob/` resources).
    public static let oldestSupportedVersion = "2015-04-05"

    /// The decoded query fields of the token (`sv`, `sr`, `sp`, `st`, `se`, `sig`, …).
    public let fields: [String: String]

    /// Parses a token (with or without the leading `?`, possibly with other query parameters mixed in).
    /// Nil when it has no `sig` or an escape is malformed.
    public init?(query: String) {
        let raw = query.hasPrefix("?") ? String(query.dropFirst()) : query
        guard let pairs = BlobText.parseQuery(raw) else { return nil }
        var fields: [String: String] = [:]
        for (name, value) in pairs where fields[name] == nil {
            fields[name] = value
        }
        guard fields["sig"] != nil else { return nil }
        self.fields = fields
    }

    /// Mints a token for one blob (`blob` given) or a whole container, valid from `start` (or at once) until
    /// `expiry`. Returns the query string without `?`, fields percent-encoded like the Azure SDKs do.
    public static func sign(account: StorageAccount, container: String, blob: String?, permissions: String,
                            start: Date? = nil, expiry: Date, protocols: String? = "https,http",
                            version: String = mintedVersion) -> String {
        var fields: [(String, String)] = [("sv", version)]
        if let start { fields.append(("st", BlobDates.iso8601(start))) }
        fields.append(("se", BlobDates.iso8601(expiry)))
        fields.append(("sr", blob == nil ? "c" : "b"))
        fields.append(("sp", permissions))
        if let protocols { fields.append(("spr", protocols)) }
        let dictionary = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        let resource = canonicalizedResource(account: account.name, container: container, blob: blob)
        // `stringToSign` only returns nil for unsupported versions; `version` is ours to choose.
        let text = stringToSign(fields: dictionary, canonicalizedResource: resource) ?? ""
        fields.append(("sig", account.sign(text)))
        return fields.map { "\($0.0)=\(BlobText.percentEncode($0.1, keeping: [UInt8(ascii: "/")]))" }
            .joined(separator: "&")
    }

    /// `/blob/<account>/<container>[/<blob>]`, with the blob name decoded, as the service canonicalizes it.
    public static func canonicalizedResource(account: String, container: String, blob: String?) -> String {
        "/blob/\(account)/\(container)" + (blob.map { "/\($0)" } ?? "")
    }

    /// The documented string to sign for the token's version; nil for versions older than 2015-04-05.
    public static func stringToSign(fields: [String: String], canonicalizedResource: String) -> String? {
        let version = fields["sv"] ?? ""
        guard isVersion(version), version >= oldestSupportedVersion else { return nil }
        func f(_ name: String) -> String { fields[name] ?? "" }
        var lines = [f("sp"), f("st"), f("se"), canonicalizedResource, f("si"), f("sip"), f("spr"), f("sv")]
        if version >= "2018-11-09" {
            lines.append(f("sr"))
            lines.append(f("snapshot-time"))  // never set: snapshots are not emulated
        }
        if version >= "2020-12-06" {
            lines.append(f("ses"))
        }
        lines += [f("rscc"), f("rscd"), f("rsce"), f("rscl"), f("rsct")]
        return lines.joined(separator: "\n")
    }

    private static func isVersion(_ text: String) -> Bool {
        text.count == 10 && BlobDates.parseISO8601(text) != nil
    }

    /// Whether this is an account SAS (`ss`/`srt` present) rather than a service SAS.
    public var isAccountSAS: Bool { fields["ss"] != nil || fields["srt"] != nil }

    /// Checks that this token lets a request do `permission` on `container` (and `blob`, nil for a
    /// container-level operation) at `now`. Throws 403 `AuthenticationFailed` for a forged, expired,
    /// not-yet-valid or unsupported token, `AuthorizationPermissionMismatch` when `sp` lacks the permission,
    /// `AuthorizationResourceTypeMismatch` when a blob token is used on a container operation (or an account
    /// token's `srt` lacks the level).
    /// - Parameter anyOf: the request is allowed when the token has at least one of these permissions.
    public func verify(account: StorageAccount, container: String, blob: String?, anyOf permissions: [SASPermission],
                       now: Date = Date(), isHTTPS: Bool = false, clientIP: String? = nil) throws {
        if isAccountSAS {
            try verifyAccountSAS(account: account, resourceType: blob == nil ? "c" : "o", anyOf: permissions,
                                 now: now, isHTTPS: isHTTPS, clientIP: clientIP)
            return
        }
        let resourceType = fields["sr"] ?? ""
        guard fields["skoid"] == nil, fields["srh"] == nil, fields["srq"] == nil else {
            throw BlobError.authenticationFailed("User delegation SAS tokens are not supported by the emulator.")
        }
        guard fields["si"] == nil else {
            throw BlobError.authenticationFailed("The signed identifier names no stored access policy.")
        }
        let resource: String
        switch resourceType {
        case "b":
            guard let blob else {
                throw BlobError.resourceTypeMismatch("A blob SAS cannot authorize a container operation.")
            }
            resource = Self.canonicalizedResource(account: account.name, container: container, blob: blob)
        case "c":
            resource = Self.canonicalizedResource(account: account.name, container: container, blob: nil)
        default:
            throw BlobError.authenticationFailed("The signed resource type must be b (blob) or c (container).")
        }
        guard let text = Self.stringToSign(fields: fields, canonicalizedResource: resource) else {
            throw BlobError.authenticationFailed("The signed version is missing or older than 2015-04-05.")
        }
        guard let signature = fields["sig"], account.verify(signature: signature, of: text) else {
            throw BlobError.authenticationFailed("Signature did not match.")
        }
        try checkValidity(now: now, isHTTPS: isHTTPS, clientIP: clientIP)
        try checkPermissions(permissions)
    }

    /// Checks an account SAS for an operation on the service (`s`, List Containers), a container (`c`) or
    /// an object (`o`, a blob). Throws 403 as `verify` does, `AuthorizationServiceMismatch` when `ss` lacks
    /// the Blob service.
    public func verifyAccountSAS(account: StorageAccount, resourceType: Character, anyOf permissions: [SASPermission],
                                 now: Date = Date(), isHTTPS: Bool = false, clientIP: String? = nil) throws {
        guard let text = Self.accountStringToSign(accountName: account.name, fields: fields) else {
            throw BlobError.authenticationFailed("The signed version is missing or older than 2015-04-05.")
        }
        guard let signature = fields["sig"], account.verify(signature: signature, of: text) else {
            throw BlobError.authenticationFailed("Signature did not match.")
        }
        try checkValidity(now: now, isHTTPS: isHTTPS, clientIP: clientIP)
        guard (fields["ss"] ?? "").contains("b") else {
            throw BlobError(status: 403, code: "AuthorizationServiceMismatch",
                            message: "This request is not authorized to perform this operation using this service.")
        }
        guard (fields["srt"] ?? "").contains(resourceType) else {
            throw BlobError.resourceTypeMismatch("The account SAS does not cover this resource type.")
        }
        try checkPermissions(permissions)
    }

    /// Mints an account SAS (Blob service only) with the given permissions (`sp`) and resource types (`srt`,
    /// letters of `sco`), valid until `expiry`. Returns the query string without `?`.
    public static func signAccount(account: StorageAccount, permissions: String, resourceTypes: String,
                                   start: Date? = nil, expiry: Date, protocols: String? = "https,http",
                                   version: String = mintedVersion) -> String {
        var fields: [(String, String)] = [("sv", version), ("ss", "b"), ("srt", resourceTypes), ("sp", permissions)]
        if let start { fields.append(("st", BlobDates.iso8601(start))) }
        fields.append(("se", BlobDates.iso8601(expiry)))
        if let protocols { fields.append(("spr", protocols)) }
        let dictionary = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        let text = accountStringToSign(accountName: account.name, fields: dictionary) ?? ""
        fields.append(("sig", account.sign(text)))
        return fields.map { "\($0.0)=\(BlobText.percentEncode($0.1, keeping: [UInt8(ascii: "/")]))" }
            .joined(separator: "&")
    }

    /// The documented account-SAS string to sign: `account \n sp \n ss \n srt \n st \n se \n sip \n spr \n
    /// sv \n`, plus `ses \n` from version 2020-12-06. Nil for versions older than 2015-04-05.
    public static func accountStringToSign(accountName: String, fields: [String: String]) -> String? {
        let version = fields["sv"] ?? ""
        guard isVersion(version), version >= oldestSupportedVersion else { return nil }
        func f(_ name: String) -> String { fields[name] ?? "" }
        var lines = [accountName, f("sp"), f("ss"), f("srt"), f("st"), f("se"), f("sip"), f("spr"), f("sv")]
        if version >= "2020-12-06" {
            lines.append(f("ses"))
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// Expiry, start time, protocol and source IP of the token, once its signature is known to be good.
    private func checkValidity(now: Date, isHTTPS: Bool, clientIP: String?) throws {
        guard let expiryText = fields["se"], let expiry = BlobDates.parseISO8601(expiryText) else {
            throw BlobError.authenticationFailed("The signed expiry time is missing or not an ISO 8601 UTC time.")
        }
        guard now < expiry else {
            throw BlobError.authenticationFailed("Signed expiry time must be after the current time: the SAS has expired.")
        }
        if let startText = fields["st"] {
            guard let start = BlobDates.parseISO8601(startText) else {
                throw BlobError.authenticationFailed("The signed start time is not an ISO 8601 UTC time.")
            }
            guard start <= now else {
                throw BlobError.authenticationFailed("Signed start time is in the future: the SAS is not valid yet.")
            }
        }
        if let protocols = fields["spr"] {
            let allowed = protocols.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard allowed.contains(isHTTPS ? "https" : "http") else {
                throw BlobError(status: 403, code: "AuthorizationProtocolMismatch",
                                message: "This request is not authorized to perform this operation using this protocol.")
            }
        }
        if let range = fields["sip"] {
            guard let clientIP, Self.ipRange(range, contains: clientIP) else {
                throw BlobError(status: 403, code: "AuthorizationSourceIPMismatch",
                                message: "This request is not authorized to perform this operation using this source IP.")
            }
        }
    }

    private func checkPermissions(_ permissions: [SASPermission]) throws {
        let granted = Set((fields["sp"] ?? "").compactMap(SASPermission.init(rawValue:)))
        guard permissions.contains(where: granted.contains) else {
            throw BlobError.permissionMismatch("The SAS does not grant the needed permission.")
        }
    }

    /// Whether `ip` (dotted IPv4) lies in `range` (`a.b.c.d` or `a.b.c.d-e.f.g.h`).
    static func ipRange(_ range: String, contains ip: String) -> Bool {
        func value(_ text: Substring) -> UInt32? {
            let parts = text.split(separator: ".")
            guard parts.count == 4 else { return nil }
            var result: UInt32 = 0
            for part in parts {
                guard let byte = UInt8(part) else { return nil }
                result = result << 8 | UInt32(byte)
            }
            return result
        }
        let bounds = range.split(separator: "-", maxSplits: 1)
        guard let address = value(ip[...]), let low = bounds.first.flatMap(value) else { return false }
        let high = bounds.count == 2 ? value(bounds[1]) : low
        guard let high else { return false }
        return low <= address && address <= high
    }
}
