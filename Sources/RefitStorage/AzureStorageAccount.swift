import Foundation
import RefitCore
import RefitHTTP

/// An Azure Storage account as a connection string describes it: name, key and Blob endpoint.
///
/// Parsed once so every request signs with the same key; the key never appears in
/// `description` or in errors.
public struct AzureStorageAccount: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// The base64 account key as written in the connection string. Secret.
    public var key: String
    /// The Blob service base URL without a trailing slash: `https://<name>.blob.core.windows.net`
    /// or, for emulators (Azurite, refit-mlsim), a path-style `http://127.0.0.1:PORT/<name>`.
    public var blobEndpoint: String
    /// The decoded key: the HMAC-SHA256 secret of Shared Key and SAS signatures.
    var keyBytes: [UInt8]

    public init(name: String, key: String, blobEndpoint: String) throws(StorageError) {
        guard !name.isEmpty else { throw StorageError(.configuration, "The storage connection string has no AccountName.") }
        guard let bytes = Data(base64Encoded: key), !bytes.isEmpty else {
            throw StorageError(.configuration, "The storage account key of '\(name)' is not valid base64.")
        }
        var endpoint = blobEndpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard let url = URL(string: endpoint), url.scheme != nil, url.host != nil else {
            throw StorageError(.configuration, "The Blob endpoint of storage account '\(name)' is not a URL.")
        }
        self.name = name
        self.key = key
        self.blobEndpoint = endpoint
        self.keyBytes = Array(bytes)
    }

    /// Parses `DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…[;BlobEndpoint=…][;EndpointSuffix=…]`.
    /// Keys are case-insensitive; values may contain `=` (base64 padding).
    public init(connectionString: String) throws(StorageError) {
        var fields: [String: String] = [:]
        // Split on the bytes of ';' and '=' (both ASCII): splitting Characters cost more than the
        // rest of an activity's set-up, and a connection string is read for every request it signs.
        for part in connectionString.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: true) {
            let trimmed = String(decoding: part, as: UTF8.self).trimmingCharacters()
            guard let eq = trimmed.utf8.firstIndex(of: UInt8(ascii: "=")) else {
                throw StorageError(.configuration, "The storage connection string has a part without '='.")
            }
            fields[trimmed[..<eq].lowercased()] = String(trimmed[trimmed.utf8.index(after: eq)...])
        }
        guard let name = fields["accountname"], !name.isEmpty else {
            throw StorageError(.configuration, "The storage connection string has no AccountName.")
        }
        guard let key = fields["accountkey"], !key.isEmpty else {
            throw StorageError(.configuration, "The storage connection string of '\(name)' has no AccountKey.")
        }
        let endpoint: String
        if let explicit = fields["blobendpoint"], !explicit.isEmpty {
            endpoint = explicit
        } else {
            let scheme = fields["defaultendpointsprotocol"] ?? "https"
            let suffix = fields["endpointsuffix"] ?? "core.windows.net"
            endpoint = "\(scheme)://\(name).blob.\(suffix)"
        }
        try self.init(name: name, key: key, blobEndpoint: endpoint)
    }

    /// The account of a connection string, parsed once per process: activities name their
    /// storage by linked service for every request they sign, and parsing (base64 key, endpoint
    /// URL) cost more than the rest of an activity's set-up. Keyed by the whole text, so a secret
    /// that changes (a rotated key file) is parsed again.
    public static func parsed(connectionString: String) throws(StorageError) -> AzureStorageAccount {
        try parsedAccounts.value(for: connectionString) { () throws(StorageError) in
            try AzureStorageAccount(connectionString: connectionString)
        }
    }

    private static let parsedAccounts = ProcessMemo<String, AzureStorageAccount>(limit: 32)

    /// A connection string for this account (holds the key: for BES request bodies only).
    public var connectionString: String {
        let scheme = blobEndpoint.hasPrefix("http://") ? "http" : "https"
        return "DefaultEndpointsProtocol=\(scheme);AccountName=\(name);AccountKey=\(key);BlobEndpoint=\(blobEndpoint);"
    }

    /// The URL of a blob: endpoint + `/container/blob`, each segment percent-encoded.
    public func url(container: String, blob: String? = nil) -> String {
        var url = blobEndpoint + "/" + BlobPath.encode(container)
        if let blob { url += "/" + BlobPath.encode(blob) }
        return url
    }

    /// base64(HMAC-SHA256(key, UTF-8 text)): the signature of Shared Key and SAS.
    func sign(_ text: String) -> String {
        Data(HMACSHA256.authenticationCode(key: keyBytes, message: Array(text.utf8))).base64EncodedString()
    }

    public var description: String { "AzureStorageAccount(\(name), \(blobEndpoint), key: <redacted>)" }

    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.key == b.key && a.blobEndpoint == b.blobEndpoint
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(name); hasher.combine(blobEndpoint) }
}

/// Percent-encoding of blob paths: RFC 3986 unreserved characters and `/` stay as they are.
public enum BlobPath {
    public static func encode(_ path: String) -> String {
        PercentEncoding.encode(path, keepingSlash: true)
    }

    /// Percent-encodes a query value (everything but unreserved characters).
    public static func encodeQueryValue(_ value: String) -> String {
        PercentEncoding.encode(value, keepingSlash: false)
    }
}
