import Foundation
import RefitHTTP
import RefitStorage

/// Why an activity step failed, classified so the worker decides retry vs. fail without
/// parsing text. The description is one sentence and never holds a key or SAS signature.
public struct ActivityError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// 408/429/5xx from the service: try again later.
        public static let serviceUnavailable = Code("serviceUnavailable")
        /// 401/403: the API key or storage key was refused.
        public static let unauthorized = Code("unauthorized")
        /// 400 and other 4xx: the request is wrong and will stay wrong.
        public static let badRequest = Code("badRequest")
        /// 404: unknown job, endpoint or blob.
        public static let notFound = Code("notFound")
        /// The remote job ended `Failed` (its Details are in the message).
        public static let jobFailed = Code("jobFailed")
        /// The activity's timeout elapsed (the job was deleted).
        public static let timedOut = Code("timedOut")
        /// The job was cancelled by someone else, or the task was cancelled.
        public static let canceled = Code("canceled")
        /// The service answered with a body we cannot read (bad JSON, oversized, unexpected shape).
        public static let malformedResponse = Code("malformedResponse")
        /// The network failed: refused, unreachable, reset, or no answer within the request timeout.
        public static let transport = Code("transport")
        /// The definitions are unusable for this activity (missing linked service, bad path...).
        public static let configuration = Code("configuration")
        /// A storage operation failed (staging an input, reading an output).
        public static let storage = Code("storage")
        /// The local command exited non-zero.
        public static let commandFailed = Code("commandFailed")
        /// The step journal could not be read or written.
        public static let journal = Code("journal")
    }

    public let code: Code
    public let message: String
    public let isRetryable: Bool
    /// The HTTP status, when one was received.
    public let status: Int?
    /// The service's own error code (`error.code`/`details[0].code`), e.g. `CannotStartJob`.
    public let serviceCode: String?
    /// How long the service asked to wait, if it did.
    public let retryAfter: Duration?

    public init(_ code: Code, _ message: String, isRetryable: Bool = false, status: Int? = nil,
                serviceCode: String? = nil, retryAfter: Duration? = nil) {
        self.code = code; self.message = message; self.isRetryable = isRetryable; self.status = status
        self.serviceCode = serviceCode; self.retryAfter = retryAfter
    }

    public var description: String { message }

    /// Classifies a transport failure of `operation`.
    static func from(_ error: HTTPError, operation: String) -> ActivityError {
        switch error.code {
        case .responseTooLarge:
            return ActivityError(.malformedResponse, "\(operation) failed: the response was larger than the size limit.")
        case .timedOut:
            return ActivityError(.transport, "\(operation) failed: the service did not answer within the request timeout.",
                                 isRetryable: true)
        case .connectionRefused:
            return ActivityError(.transport, "\(operation) failed: the connection was refused.", isRetryable: true)
        case .cannotResolveHost:
            return ActivityError(.transport, "\(operation) failed: the service host could not be resolved.", isRetryable: true)
        case .cancelled:
            return ActivityError(.canceled, "\(operation) was cancelled.")
        case .invalidRequest, .tls, .tooManyRedirects:
            return ActivityError(.configuration, "\(operation) failed: \(error.description)")
        case .httpStatus:
            return ActivityError(.serviceUnavailable, "\(operation) failed with HTTP \(error.status ?? 0).",
                                 isRetryable: error.isRetryable, status: error.status)
        default:
            return ActivityError(.transport, "\(operation) failed: \(error.description)", isRetryable: error.isRetryable)
        }
    }

    /// Classifies a non-2xx response, reading the classic AML error envelope
    /// `{"error":{"code","message","details":[{"code","message"}]}}` when present.
    public static func from(status: Int, body: Data, retryAfter: Duration? = nil, operation: String) -> ActivityError {
        let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: body)
        let top = envelope?.error
        let detail = top?.details?.first
        let serviceCode = detail?.code ?? top?.code
        var text = "\(operation) failed with HTTP \(status)"
        if let code = top?.code {
            text += " \(code)" + (detail?.code.map { "/\($0)" } ?? "")
        }
        if let message = detail?.message ?? top?.message {
            text += ": " + Self.clip(message)
        }
        if !text.hasSuffix(".") { text += "." }
        let code: Code
        switch status {
        case 401, 403: code = .unauthorized
        case 404: code = .notFound
        case 408, 429, 500, 502, 503, 504: code = .serviceUnavailable
        case 500...599: code = .serviceUnavailable
        default: code = .badRequest
        }
        return ActivityError(code, text, isRetryable: HTTPError.retryableStatuses.contains(status), status: status,
                             serviceCode: serviceCode, retryAfter: retryAfter)
    }

    static func from(_ error: StorageError) -> ActivityError {
        let code: Code = error.code == .unauthorized ? .unauthorized : error.code == .configuration ? .configuration : .storage
        return ActivityError(code, error.message, isRetryable: error.isRetryable, status: error.status)
    }

    /// At most 300 characters of service text on one line.
    static func clip(_ text: String) -> String {
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return oneLine.count > 300 ? String(oneLine.prefix(300)) + "…" : oneLine
    }
}

/// The classic AML error body.
struct ErrorEnvelope: Decodable {
    struct Body: Decodable {
        var code: String?
        var message: String?
        var details: [Detail]?
    }
    struct Detail: Decodable {
        var code: String?
        var message: String?
    }
    var error: Body
}
