import Foundation

/// An HTTP method. A struct rather than an enum so services with extension methods (`PROPFIND`, `MKCOL`)
/// need no change here.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }

    public static let get = HTTPMethod(rawValue: "GET")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let patch = HTTPMethod(rawValue: "PATCH")
    public static let delete = HTTPMethod(rawValue: "DELETE")
    public static let options = HTTPMethod(rawValue: "OPTIONS")
}

/// One request to send. The URL is a string on purpose: it goes to libcurl byte for byte, which SigV4
/// needs (the query must stay exactly as canonicalized; see ``SigV4/canonicalQuery(_:)``).
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    public var body: Data?
    /// Overrides the client's total timeout for this request.
    public var timeout: Duration?
    /// When set, libcurl signs the request with AWS Signature Version 4.
    public var sigV4: SigV4Credentials?
    /// What the request talks to, as the `target` label of `refit_http_requests_total`: a
    /// logical name (`aml`, `blob`, `s3`) set by the client that builds the request; nil means
    /// the URL's host. Never the URL itself (its query may hold a SAS token).
    public var target: String?

    public init(method: HTTPMethod = .get, url: String, headers: HTTPHeaders = [:], body: Data? = nil,
                timeout: Duration? = nil, sigV4: SigV4Credentials? = nil, target: String? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.sigV4 = sigV4
        self.target = target
    }

    /// The `target` label: `target`, else the URL's host, else `unknown`.
    var metricsTarget: String {
        if let target { return target }
        return URLComponents(string: url)?.host.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
    }
}

/// Credentials and scope for AWS Signature Version 4 (S3 and S3-compatible stores).
public struct SigV4Credentials: Sendable, CustomStringConvertible {
    public var region: String
    public var service: String
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(region: String, service: String = "s3", accessKeyId: String, secretAccessKey: String,
                sessionToken: String? = nil) {
        self.region = region
        self.service = service
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Never shows the secret key or the session token.
    public var description: String {
        "SigV4(region: \(region), service: \(service), accessKeyId: \(accessKeyId), secret: \(Redactor.placeholder))"
    }
}
