import Foundation

/// Why a request failed, classified so callers can decide to retry without parsing messages.
///
/// Transport failures and HTTP 408/429/500/502/503/504 are retryable (with the server's `Retry-After`
/// when it sent one); other 4xx, TLS problems, redirect loops and oversized responses are terminal.
/// The URL is always redacted and secret values never appear in ``description``.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Nothing listened on the port (the TCP connection was refused).
        public static let connectionRefused = Code("connectionRefused")
        /// The host name did not resolve.
        public static let cannotResolveHost = Code("cannotResolveHost")
        /// The connect or total timeout elapsed.
        public static let timedOut = Code("timedOut")
        /// More redirects than the configured limit.
        public static let tooManyRedirects = Code("tooManyRedirects")
        /// The body exceeded the configured size cap.
        public static let responseTooLarge = Code("responseTooLarge")
        /// TLS handshake or certificate verification failed.
        public static let tls = Code("tls")
        /// Any other network or protocol failure (reset, truncated or malformed response, unreachable).
        public static let transport = Code("transport")
        /// The server answered with a non-2xx status.
        public static let httpStatus = Code("httpStatus")
        /// The awaiting task was cancelled or the client shut down.
        public static let cancelled = Code("cancelled")
        /// The request itself is unusable (bad URL, header with a line break).
        public static let invalidRequest = Code("invalidRequest")
    }

    public let code: Code
    public let method: HTTPMethod
    /// The request URL with secrets replaced by `<redacted>`.
    public let url: String
    /// The HTTP status, for ``Code/httpStatus``.
    public let status: Int?
    public let isRetryable: Bool
    /// How long the server asked to wait (`Retry-After`, seconds or HTTP-date), if it did.
    public let retryAfter: Duration?
    /// The start of the response body for status errors (redacted, at most 200 characters).
    public let bodyExcerpt: String?
    /// libcurl's or our own explanation (redacted).
    public let detail: String?

    public init(code: Code, method: HTTPMethod, url: String, status: Int? = nil, isRetryable: Bool,
                retryAfter: Duration? = nil, bodyExcerpt: String? = nil, detail: String? = nil) {
        self.code = code
        self.method = method
        self.url = url
        self.status = status
        self.isRetryable = isRetryable
        self.retryAfter = retryAfter
        self.bodyExcerpt = bodyExcerpt
        self.detail = detail
    }

    /// Statuses worth retrying: the server timed out, throttled, or is temporarily broken.
    public static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    public var description: String {
        var text: String
        switch code {
        case .httpStatus:
            let status = status.map(String.init) ?? "?"
            text = "\(method) \(url) returned HTTP \(status)"
            if let bodyExcerpt, !bodyExcerpt.isEmpty { text += " (\(bodyExcerpt))" }
        case .connectionRefused: text = "\(method) \(url) failed: connection refused"
        case .cannotResolveHost: text = "\(method) \(url) failed: cannot resolve host"
        case .timedOut: text = "\(method) \(url) timed out"
        case .tooManyRedirects: text = "\(method) \(url) failed: too many redirects"
        case .responseTooLarge: text = "\(method) \(url) failed: response larger than the size cap"
        case .tls: text = "\(method) \(url) failed: TLS error"
        case .cancelled: text = "\(method) \(url) was cancelled"
        case .invalidRequest: text = "\(method) \(url) is not a valid request"
        default: text = "\(method) \(url) failed: transport error"
        }
        if code != .httpStatus, let detail, !detail.isEmpty { text += " (\(detail))" }
        if let retryAfter {
            text += "; retry after \(retryAfter.components.seconds) s"
        }
        return text + (isRetryable ? " [retryable]." : " [terminal].")
    }

    /// The classified error for a non-2xx response.
    static func status(_ response: HTTPResponse, now: Date) -> HTTPError {
        let excerptLimit = 200
        var excerpt = String(decoding: response.body.prefix(excerptLimit * 4), as: UTF8.self)
        if excerpt.count > excerptLimit { excerpt = String(excerpt.prefix(excerptLimit)) + "…" }
        excerpt = excerpt.split(whereSeparator: \.isNewline).joined(separator: " ")
        return HTTPError(
            code: .httpStatus, method: response.method, url: response.redaction.url(response.effectiveURL),
            status: response.status, isRetryable: retryableStatuses.contains(response.status),
            retryAfter: response.headers["Retry-After"].flatMap { parseRetryAfter($0, now: now) },
            bodyExcerpt: response.redaction.text(excerpt))
    }

    /// Parses a `Retry-After` value: delta-seconds (`120`) or an HTTP-date (IMF-fixdate, RFC 850 or
    /// asctime). A date in the past means "now" (zero); anything unparsable is nil.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        if !trimmed.isEmpty, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) {
            guard let seconds = Int64(trimmed) else { return nil }
            return .seconds(seconds)
        }
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) {
                let delta = date.timeIntervalSince(now)
                return delta > 0 ? .seconds(Int64(delta.rounded(.up))) : .zero
            }
        }
        return nil
    }
}
