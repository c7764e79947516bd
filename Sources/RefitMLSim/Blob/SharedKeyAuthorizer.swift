import Foundation

/// The parts of an HTTP request that Azure's signatures cover, independent of the HTTP server, so the
/// signing rules can be tested on their own.
public struct BlobRequestHead: Sendable {
    /// Upper-case HTTP method.
    public var method: String
    /// The path exactly as sent, still percent-encoded, e.g. `/refitstore/models/a%20b.csv`.
    public var rawPath: String
    /// The query exactly as sent (without `?`), or nil.
    public var rawQuery: String?
    /// Header fields in arrival order; names in any case.
    public var headers: [(name: String, value: String)]

    public init(method: String, rawPath: String, rawQuery: String?, headers: [(name: String, value: String)]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
    }

    /// The first value of a header, matched case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }
}

/// Verifies `Authorization: SharedKey <account>:<signature>` by Azure's documented scheme for the Blob
/// service (version 2015-02-21 and later), so the official SDKs, which sign every request with the account
/// key, are accepted and anyone without the key is refused.
///
/// The string to sign is
/// `VERB \n Content-Encoding \n Content-Language \n Content-Length (empty when 0) \n Content-MD5 \n
/// Content-Type \n Date \n If-Modified-Since \n If-Match \n If-None-Match \n If-Unmodified-Since \n Range \n`
/// followed by the canonicalized `x-ms-*` headers (`name:value\n`, names lower-cased and sorted) and the
/// canonicalized resource (`/<account><path>` then `\nname:value[,value…]` per query parameter, names
/// lower-cased and sorted, values decoded). With a path-style endpoint the path itself starts with the
/// account, so the resource reads `/<account>/<account>/<container>/<blob>`; that is what the Azure SDKs
/// (azure-storage-blob's `SharedKeyCredentialPolicy`) and Azurite compute, and it is tried first.
public struct SharedKeyAuthorizer: Sendable {
    public let account: StorageAccount
    /// How far `x-ms-date`/`Date` may be from the server clock; Azure allows 15 minutes, which bounds replays.
    public var maxClockSkew: TimeInterval

    public init(account: StorageAccount, maxClockSkew: TimeInterval = 15 * 60) {
        self.account = account
        self.maxClockSkew = maxClockSkew
    }

    /// Header sort order of the Azure Storage service, as reproduced by azure-storage-blob's
    /// `_storage_header_sort`: a two-level comparison where `-` is ignored at the first level.
    public static func serviceHeaderOrder(_ lhs: String, _ rhs: String) -> Bool {
        compareLikeService(lhs, rhs) < 0
    }

    /// The documented string to sign.
    /// - Parameters:
    ///   - canonicalPath: the path part of the canonicalized resource, appended to `/<account>`.
    ///   - headerOrder: order of the `x-ms-*` header names (defaults to the service's order).
    ///   - dateOverride: the value for the `Date` line; nil means the request's `Date` header.
    public static func stringToSign(_ request: BlobRequestHead, accountName: String, canonicalPath: String,
                                    headerOrder: (String, String) -> Bool = serviceHeaderOrder,
                                    dateOverride: String? = nil) -> String? {
        var lines: [String] = [request.method.uppercased()]
        for name in ["Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type"] {
            var value = request.header(name) ?? ""
            if name == "Content-Length", value == "0" { value = "" }
            lines.append(value)
        }
        lines.append(dateOverride ?? request.header("Date") ?? "")
        for name in ["If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"] {
            lines.append(request.header(name) ?? "")
        }
        var text = lines.joined(separator: "\n") + "\n"

        // Canonicalized headers: every x-ms-* header once, lower-cased, repeated values joined by commas.
        var msHeaders: [String: [String]] = [:]
        for (name, value) in request.headers {
            let lower = name.lowercased()
            if lower.hasPrefix("x-ms-") {
                msHeaders[lower, default: []].append(value.trimmingCharacters(in: .whitespaces))
            }
        }
        for name in msHeaders.keys.sorted(by: headerOrder) {
            text += "\(name):\(msHeaders[name, default: []].joined(separator: ","))\n"
        }

        // Canonicalized resource.
        text += "/\(accountName)\(canonicalPath)"
        guard let pairs = BlobText.parseQuery(request.rawQuery) else { return nil }
        var params: [String: [String]] = [:]
        for (name, value) in pairs where !name.isEmpty {
            params[name.lowercased(), default: []].append(value)
        }
        for name in params.keys.sorted() {
            text += "\n\(name):\(params[name, default: []].sorted().joined(separator: ","))"
        }
        return text
    }

    /// The `Authorization` header value a client holding the key would send (for tests and internal clients).
    public func authorizationHeader(for request: BlobRequestHead) -> String? {
        guard let text = Self.stringToSign(request, accountName: account.name, canonicalPath: request.rawPath) else {
            return nil
        }
        return "SharedKey \(account.name):\(account.sign(text))"
    }

    /// Accepts the request or throws 403 `AuthenticationFailed`. The error text never contains the key or
    /// the expected signature.
    public func authorize(_ request: BlobRequestHead, now: Date = Date()) throws {
        guard let authorization = request.header("Authorization") else {
            throw BlobError.authenticationFailed("The request has no Authorization header.")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0] == "SharedKey" else {
            throw BlobError.authenticationFailed("Only the SharedKey authorization scheme is supported.")
        }
        let credential = parts[1].trimmingCharacters(in: .whitespaces)
        guard let colon = credential.lastIndex(of: ":") else {
            throw BlobError.authenticationFailed("The Authorization header is not of the form SharedKey account:signature.")
        }
        guard credential[..<colon] == account.name else {
            throw BlobError.authenticationFailed("The Authorization header names another storage account.")
        }
        let signature = String(credential[credential.index(after: colon)...])

        let msDate = request.header("x-ms-date")
        guard let dateText = msDate ?? request.header("Date") else {
            throw BlobError.authenticationFailed("The request has neither an x-ms-date nor a Date header.")
        }
        guard let date = BlobDates.parseRFC1123(dateText) else {
            throw BlobError.authenticationFailed("The request date is not an RFC 1123 date.")
        }
        guard abs(date.timeIntervalSince(now)) <= maxClockSkew else {
            throw BlobError.authenticationFailed("The request date is more than 15 minutes away from the server time.")
        }

        for candidate in candidates(for: request, hasMsDate: msDate != nil)
        where account.verify(signature: signature, of: candidate) {
            return
        }
        throw BlobError.authenticationFailed(
            "Make sure the value of Authorization header is formed correctly including the signature.")
    }

    /// The strings a correct client may have signed: the SDK/Azurite form first, then the host-style
    /// resource (without the account segment in the path), plain ordinal header order, and an empty `Date`
    /// line when `x-ms-date` is present (a proxy may add `Date` after signing).
    private func candidates(for request: BlobRequestHead, hasMsDate: Bool) -> [String] {
        var paths = [request.rawPath.isEmpty ? "/" : request.rawPath]
        let prefix = "/\(account.name)"
        if request.rawPath == prefix {
            paths.append("/")
        } else if request.rawPath.hasPrefix(prefix + "/") {
            paths.append(String(request.rawPath.dropFirst(prefix.count)))
        }
        let orders: [(String, String) -> Bool] = [Self.serviceHeaderOrder, { $0 < $1 }]
        let dates: [String?] = hasMsDate && request.header("Date") != nil ? [nil, ""] : [nil]
        var seen = Set<String>()
        var result: [String] = []
        for path in paths {
            for order in orders {
                for date in dates {
                    if let text = Self.stringToSign(request, accountName: account.name, canonicalPath: path,
                                                    headerOrder: order, dateOverride: date),
                       seen.insert(text).inserted {
                        result.append(text)
                    }
                }
            }
        }
        return result
    }

    // Weight tables of the service's header comparison (level 0 ignores '-', level 4 breaks ties on it).
    private static let level0: [UInt16] = {
        var table = [UInt16](repeating: 0, count: 128)
        let specials: [(Int, UInt16)] = [(33, 0x71c), (35, 0x71f), (36, 0x721), (37, 0x723), (38, 0x725),
                                         (42, 0x72d), (43, 0x803), (46, 0x733), (94, 0x743), (95, 0x744),
                                         (96, 0x748), (124, 0x74c), (126, 0x750)]
        for (index, weight) in specials { table[index] = weight }
        let digits: [UInt16] = [0xd03, 0xd1a, 0xd1c, 0xd1e, 0xd20, 0xd22, 0xd24, 0xd26, 0xd28, 0xd2a]
        for (offset, weight) in digits.enumerated() { table[48 + offset] = weight }
        let letters: [UInt16] = [0xe02, 0xe09, 0xe0a, 0xe1a, 0xe21, 0xe23, 0xe25, 0xe2c, 0xe32, 0xe35, 0xe36,
                                 0xe48, 0xe51, 0xe70, 0xe7c, 0xe7e, 0xe89, 0xe8a, 0xe91, 0xe99, 0xe9f, 0xea2,
                                 0xea4, 0xea6, 0xea7, 0xea9]
        for (offset, weight) in letters.enumerated() {
            table[65 + offset] = weight
            table[97 + offset] = weight
        }
        return table
    }()
    private static let level4: [UInt16] = {
        var table = [UInt16](repeating: 0, count: 128)
        table[39] = 0x8012
        table[45] = 0x8212
        return table
    }()

    private static func compareLikeService(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        let tables = [level0, level4]
        var level = 0, i = 0, j = 0
        func weight(_ table: [UInt16], _ bytes: [UInt8], _ index: Int) -> UInt16 {
            guard index < bytes.count else { return 1 }
            let byte = bytes[index]
            return byte < 128 ? table[Int(byte)] : 0
        }
        while level < tables.count {
            if level == tables.count - 1 && i != j {
                return i > j ? -1 : 1
            }
            let w1 = weight(tables[level], a, i), w2 = weight(tables[level], b, j)
            if w1 == 1 && w2 == 1 {
                i = 0
                j = 0
                level += 1
            } else if w1 == w2 {
                i += 1
                j += 1
            } else if w1 == 0 {
                i += 1
            } else if w2 == 0 {
                j += 1
            } else {
                return w1 < w2 ? -1 : 1
            }
        }
        return 0
    }
}
