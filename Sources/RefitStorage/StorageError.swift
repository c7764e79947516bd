import Foundation
import RefitHTTP

/// A storage failure, classified for retry decisions, in one sentence without secrets.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }
        /// A connection string, key or path is unusable.
        public static let configuration = Code("configuration")
        /// The blob or container does not exist (404).
        public static let notFound = Code("notFound")
        /// The key or SAS was refused (401/403).
        public static let unauthorized = Code("unauthorized")
        /// The service answered with another error status.
        public static let service = Code("service")
        /// The network failed (refused, reset, timed out); retryable.
        public static let transport = Code("transport")
        /// The service answered with a body we cannot read.
        public static let malformedResponse = Code("malformedResponse")
        /// A local file could not be read.
        public static let localFile = Code("localFile")
    }

    public let code: Code
    public let message: String
    public let status: Int?
    public let isRetryable: Bool

    public init(_ code: Code, _ message: String, status: Int? = nil, isRetryable: Bool = false) {
        self.code = code; self.message = message; self.status = status; self.isRetryable = isRetryable
    }

    public var description: String { message }

    /// Classifies an HTTP failure of `operation` (already redacted by RefitHTTP).
    static func from(_ error: HTTPError, operation: String) -> StorageError {
        switch error.code {
        case .httpStatus:
            let status = error.status ?? 0
            let code: Code = status == 404 ? .notFound : (status == 401 || status == 403) ? .unauthorized : .service
            return StorageError(code, "\(operation) failed with HTTP \(status).", status: status,
                                isRetryable: error.isRetryable)
        default:
            return StorageError(.transport, "\(operation) failed: \(error.description)", isRetryable: error.isRetryable)
        }
    }
}
