import Foundation

/// A complete response: status, the final header block (after redirects) and the whole body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data
    /// The URL that produced this response, after any redirects. It may carry secrets (a SAS
    /// signature): log it only through ``Redactor/redact(url:)``.
    public var effectiveURL: String
    /// The method of the request, kept for error messages.
    public var method: HTTPMethod

    /// Secrets known from the request (header values, signing keys), hidden from error excerpts.
    let redaction: RedactionContext

    public init(status: Int, headers: HTTPHeaders, body: Data, effectiveURL: String,
                method: HTTPMethod = .get, redactor: Redactor = .standard) {
        self.init(status: status, headers: headers, body: body, effectiveURL: effectiveURL, method: method,
                  redaction: RedactionContext(redactor: redactor, secrets: []))
    }

    init(status: Int, headers: HTTPHeaders, body: Data, effectiveURL: String, method: HTTPMethod,
         redaction: RedactionContext) {
        self.status = status
        self.headers = headers
        self.body = body
        self.effectiveURL = effectiveURL
        self.method = method
        self.redaction = redaction
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body decoded as UTF-8 (invalid bytes replaced), for text APIs.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Returns `self` for a 2xx status and throws a classified ``HTTPError`` otherwise, so callers decide
    /// retries from `isRetryable`/`retryAfter` instead of re-deriving them from status codes.
    public func checked(now: Date = Date()) throws(HTTPError) -> HTTPResponse {
        guard isSuccess else {
            throw HTTPError.status(self, now: now)
        }
        return self
    }
}

/// What a response or error needs to hide secrets in what it prints.
struct RedactionContext: Sendable {
    var redactor: Redactor
    /// Finds the exact secret strings sent with the request; called only when text is redacted
    /// (an error), since finding them parses the request's headers and query.
    private let findSecrets: @Sendable () -> [String]

    init(redactor: Redactor, secrets: [String]) {
        self.redactor = redactor
        findSecrets = { secrets }
    }

    init(redactor: Redactor, findSecrets: @escaping @Sendable () -> [String]) {
        self.redactor = redactor
        self.findSecrets = findSecrets
    }

    /// Exact secret strings sent with the request.
    var secrets: [String] { findSecrets() }

    func url(_ url: String) -> String { redactor.redact(url: url) }
    func text(_ text: String) -> String { redactor.redact(text: text, secrets: secrets) }
}
