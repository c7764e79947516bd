import Foundation

/// An error answered in the classic envelope `{"error":{"code","message","details":[{"code","message"}]}}`.
///
/// Every rejection the emulator makes goes through this type, so status code, top-level code and
/// detail code always agree with the table of docs/AZURE-ML-WIRE-PROTOCOL.md, §1.5 "Error body and HTTP status codes".
public struct MLServiceError: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    public var detailCode: String?
    public var detailMessage: String?
    public var retryAfter: Int?

    public init(status: Int, code: String, message: String, detailCode: String? = nil, detailMessage: String? = nil,
                retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.detailCode = detailCode
        self.detailMessage = detailMessage
        self.retryAfter = retryAfter
    }

    /// 400 `BadArgument` with a detail code.
    public static func badArgument(_ detail: String, _ message: String) -> MLServiceError {
        MLServiceError(status: 400, code: "BadArgument", message: "Invalid argument provided.",
                       detailCode: detail, detailMessage: message)
    }

    /// 400 `BadUserArgument` with a detail code.
    public static func badUserArgument(_ detail: String, _ message: String) -> MLServiceError {
        MLServiceError(status: 400, code: "BadUserArgument", message: "Invalid user argument provided.",
                       detailCode: detail, detailMessage: message)
    }

    /// 400 `InvalidOperation` with a detail code.
    public static func invalidOperation(_ detail: String, _ message: String) -> MLServiceError {
        MLServiceError(status: 400, code: "InvalidOperation", message: "The request is invalid in the current context.",
                       detailCode: detail, detailMessage: message)
    }

    /// 401 `Unauthorized`; the detail names which kind of call was refused.
    public static func unauthorized(_ detail: String) -> MLServiceError {
        MLServiceError(status: 401, code: "Unauthorized", message: "Authorization failed.",
                       detailCode: detail, detailMessage: "Invalid credentials provided.")
    }

    /// 404 `NotFound` with a detail code.
    public static func notFound(_ detail: String, _ message: String) -> MLServiceError {
        MLServiceError(status: 404, code: "NotFound", message: "Resource not found.",
                       detailCode: detail, detailMessage: message)
    }

    /// The JSON envelope body.
    public var body: Data {
        var error: [String: Any] = ["code": code, "message": message]
        if let detailCode {
            error["details"] = [["code": detailCode, "message": detailMessage ?? message]]
        } else {
            error["details"] = [[String: String]]()
        }
        return (try? JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys])) ?? Data()
    }
}
