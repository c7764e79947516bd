import Foundation
import RefitHTTP
import RefitCore

/// Azure Storage Shared Key signing for the Blob service (versions 2015-02-21 and later):
/// the documented string-to-sign, so requests verify against Azure, Azurite and refit-mlsim.
public enum SharedKey {
    /// The Blob service version Refit speaks.
    public static let version = "2021-08-06"

    /// The string to sign:
    /// `VERB \n Content-Encoding \n Content-Language \n Content-Length (empty when 0) \n Content-MD5 \n
    /// Content-Type \n Date \n If-Modified-Since \n If-Match \n If-None-Match \n If-Unmodified-Since \n
    /// Range \n` + canonicalized `x-ms-*` headers + canonicalized resource.
    public static func stringToSign(method: String, url: String, headers: HTTPHeaders, accountName: String) -> String? {
        guard let components = URLComponents(string: url) else { return nil }
        func h(_ name: String) -> String { headers[name] ?? "" }
        var contentLength = h("Content-Length")
        if contentLength == "0" { contentLength = "" }
        var lines = [method.uppercased(), h("Content-Encoding"), h("Content-Language"), contentLength, h("Content-MD5"),
                     h("Content-Type"), h("Date"), h("If-Modified-Since"), h("If-Match"), h("If-None-Match"),
                     h("If-Unmodified-Since"), h("Range")]
        // Canonicalized headers: x-ms-* lower-cased, sorted, whitespace unfolded, one per line.
        var msHeaders: [String: [String]] = [:]
        for field in headers where field.name.lowercased().hasPrefix("x-ms-") {
            let value = field.value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
                .joined(separator: " ")
            msHeaders[field.name.lowercased(), default: []].append(value)
        }
        for name in msHeaders.keys.sorted() {
            lines.append("\(name):\(msHeaders[name, default: []].joined(separator: ","))")
        }
        // Canonicalized resource: /account + encoded path, then sorted query parameters.
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        var resource = "/\(accountName)\(path)"
        var params: [String: [String]] = [:]
        for item in components.queryItems ?? [] {
            params[item.name.lowercased(), default: []].append(item.value ?? "")
        }
        for name in params.keys.sorted() {
            resource += "\n\(name):\(params[name, default: []].sorted().joined(separator: ","))"
        }
        lines.append(resource)
        return lines.joined(separator: "\n")
    }

    /// Adds `x-ms-date`, `x-ms-version` and `Authorization: SharedKey account:signature` to `request`.
    public static func sign(_ request: inout HTTPRequest, account: AzureStorageAccount, date: Date = Date()) throws(StorageError) {
        request.headers.set("x-ms-date", httpDate(date))
        request.headers.set("x-ms-version", version)
        if let body = request.body, !request.headers.contains("Content-Length") {
            request.headers.set("Content-Length", String(body.count))
        }
        guard let text = stringToSign(method: request.method.rawValue, url: request.url, headers: request.headers,
                                      accountName: account.name) else {
            throw StorageError(.configuration, "A blob URL could not be parsed for signing.")
        }
        request.headers.set("Authorization", "SharedKey \(account.name):\(account.sign(text))")
    }

    /// RFC 1123 date (`Sun, 11 Oct 2009 21:49:13 GMT`).
    public static func httpDate(_ date: Date) -> String {
        WallInstant(date).instant.httpDate
    }
}

/// Service SAS tokens for one blob, signed with the account key (string-to-sign of version
/// 2020-12-06 and later), so a model location can be handed to a service without the key.
public enum BlobSAS {
    public static let version = "2020-12-06"

    /// The documented string to sign for a service SAS of version ≥ 2020-12-06.
    public static func stringToSign(permissions: String, start: String, expiry: String, canonicalizedResource: String,
                                    protocols: String, version: String, resource: String) -> String {
        [permissions, start, expiry, canonicalizedResource, "", "", protocols, version, resource, "", "",
         "", "", "", "", ""].joined(separator: "\n")
    }

    /// A token (`?sv=…&se=…&sr=b&sp=r&spr=…&sig=…`, leading `?`) granting `permissions` on one blob until `expiry`.
    public static func blobToken(account: AzureStorageAccount, container: String, blob: String,
                                 permissions: String = "r", expiry: Date, protocols: String = "https,http") -> String {
        let se = iso8601(expiry)
        let resource = "/blob/\(account.name)/\(container)/\(blob)"
        let text = stringToSign(permissions: permissions, start: "", expiry: se, canonicalizedResource: resource,
                                protocols: protocols, version: version, resource: "b")
        let fields = [("sv", version), ("se", se), ("sr", "b"), ("sp", permissions), ("spr", protocols),
                      ("sig", account.sign(text))]
        return "?" + fields.map { "\($0.0)=\(BlobPath.encodeQueryValue($0.1))" }.joined(separator: "&")
    }

    /// `yyyy-MM-ddTHH:mm:ssZ` in UTC.
    public static func iso8601(_ date: Date) -> String {
        WallInstant(date).instant.iso8601
    }
}
