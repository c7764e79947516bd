import Foundation
import RefitCore

/// Helpers for AWS Signature Version 4 requests signed by libcurl (`CURLOPT_AWS_SIGV4`).
///
/// libcurl 7.88 signs the query string exactly as given, so URLs must be built with the query already
/// canonical (sorted, RFC 3986 encoded); newer libcurl accepts the same input. Build every signed URL's
/// query with ``canonicalQuery(_:)``.
public enum SigV4 {
    /// The payload hash S3 accepts when the body is not hashed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// `name=value` pairs sorted by encoded name, then encoded value, each encoded with ``encode(_:)``
    /// and joined by `&`. A pair with an empty value keeps its `=`.
    public static func canonicalQuery(_ items: [(String, String)]) -> String {
        items.map { (encode($0.0), encode($0.1)) }
            .sorted { lhs, rhs in
                lhs.0 == rhs.0 ? lhs.1.utf8.lexicographicallyPrecedes(rhs.1.utf8)
                    : lhs.0.utf8.lexicographicallyPrecedes(rhs.0.utf8)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// RFC 3986 percent-encoding as SigV4 requires: only `A-Z a-z 0-9 - _ . ~` stay literal; everything
    /// else (including `/`, space and `+`) becomes `%XX` with upper-case hex over UTF-8 bytes.
    public static func encode(_ value: String) -> String {
        PercentEncoding.encode(value, keepingSlash: false)
    }

    /// Encodes an object key or path for the URL: like ``encode(_:)`` but `/` separators stay, which
    /// is the canonical URI form S3 expects.
    public static func encodePath(_ path: String) -> String {
        PercentEncoding.encode(path, keepingSlash: true)
    }

    /// The lower-case hex SHA-256 of `data`, the value of `x-amz-content-sha256` for a signed payload.
    public static func payloadHash(_ data: Data) -> String {
        SHA256.hexString(SHA256.hash(data))
    }
}
