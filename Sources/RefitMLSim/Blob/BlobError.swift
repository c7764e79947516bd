import Foundation

/// A Blob service failure in Azure's terms: an HTTP status, an Azure error code (what clients such as the
/// Azure SDKs switch on, sent as `x-ms-error-code`) and a one-sentence message. It never carries secrets.
public struct BlobError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(code) (\(status)): \(message)" }

    static func authenticationFailed(_ detail: String) -> BlobError {
        BlobError(status: 403, code: "AuthenticationFailed",
                  message: "Server failed to authenticate the request. \(detail)")
    }
    static func permissionMismatch(_ detail: String) -> BlobError {
        BlobError(status: 403, code: "AuthorizationPermissionMismatch",
                  message: "This request is not authorized to perform this operation using this permission. \(detail)")
    }
    static func resourceTypeMismatch(_ detail: String) -> BlobError {
        BlobError(status: 403, code: "AuthorizationResourceTypeMismatch",
                  message: "This request is not authorized to perform this operation using this resource type. \(detail)")
    }
    static func invalidResourceName(_ detail: String) -> BlobError {
        BlobError(status: 400, code: "InvalidResourceName",
                  message: "The specifed resource name contains invalid characters. \(detail)")
    }
    static let containerNotFound = BlobError(status: 404, code: "ContainerNotFound",
                                             message: "The specified container does not exist.")
    static let containerAlreadyExists = BlobError(status: 409, code: "ContainerAlreadyExists",
                                                  message: "The specified container already exists.")
    static let blobNotFound = BlobError(status: 404, code: "BlobNotFound", message: "The specified blob does not exist.")
    static let blobAlreadyExists = BlobError(status: 409, code: "BlobAlreadyExists",
                                             message: "The specified blob already exists.")
    static let conditionNotMet = BlobError(status: 412, code: "ConditionNotMet",
                                           message: "The condition specified using HTTP conditional header(s) is not met.")
    static let notModified = BlobError(status: 304, code: "ConditionNotMet",
                                       message: "The condition specified using HTTP conditional header(s) is not met.")
    static let invalidRange = BlobError(status: 416, code: "InvalidRange",
                                        message: "The range specified is invalid for the current size of the resource.")
    static func storageFailure(_ detail: String) -> BlobError {
        BlobError(status: 500, code: "InternalError", message: "The server encountered an internal error. \(detail)")
    }
}

/// Small text helpers shared by the Blob service: XML escaping and URL percent-coding.
enum BlobText {
    static func xmlEscape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Azure's XML error body.
    static func errorXML(code: String, message: String) -> String {
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>\(xmlEscape(code))</Code>"
            + "<Message>\(xmlEscape(message))</Message></Error>"
    }

    /// Decodes `%XX` escapes (and leaves `+` alone, as Azure's canonicalization does). Nil when an escape is
    /// malformed or the bytes are not UTF-8.
    static func percentDecode(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let hi = iterator.next().flatMap(hexValue), let lo = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(hi << 4 | lo)
            } else {
                bytes.append(byte)
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    /// Percent-encodes everything except RFC 3986 unreserved characters and the bytes in `keeping`.
    static func percentEncode(_ text: String, keeping: Set<UInt8> = []) -> String {
        var out = ""
        for byte in text.utf8 {
            if isUnreserved(byte) || keeping.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + hexDigits[Int(byte >> 4)] + hexDigits[Int(byte & 0x0F)]
            }
        }
        return out
    }

    private static let hexDigits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
             UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Splits a raw query string into percent-decoded (name, value) pairs, in order.
    /// Nil when an escape is malformed.
    static func parseQuery(_ raw: String?) -> [(name: String, value: String)]? {
        guard let raw, !raw.isEmpty else { return [] }
        var pairs: [(name: String, value: String)] = []
        for item in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let eq = item.firstIndex(of: "=") {
                name = item[..<eq]
                value = item[item.index(after: eq)...]
            } else {
                name = item
                value = ""
            }
            guard let n = percentDecode(name), let v = percentDecode(value) else { return nil }
            pairs.append((n, v))
        }
        return pairs
    }
}
