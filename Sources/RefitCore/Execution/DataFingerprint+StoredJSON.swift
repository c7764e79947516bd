import Foundation

/// The stored form of a fingerprint, shared by every store: `{"files":[{"etag":…,"modified":…,
/// "name":…,"size":…}]}` with sorted keys and absent values left out (the text `JSONEncoder`
/// writes with `.sortedKeys`, which older databases hold, apart from the escaping of `/`).
///
/// Written and read by hand: every slice that becomes Ready writes one, and the changed-data
/// sweep reads back every recent Ready slice's, where `JSONEncoder`/`JSONDecoder` were most of
/// the sweep's cost. Text in any other JSON shape (other whitespace, key order, escapes) is read
/// by `JSONDecoder`, so nothing valid is refused.
extension DataFingerprint {
    /// The stored text: sorted keys, no whitespace.
    public var storedJSON: String {
        var out = "{\"files\":["
        for (index, file) in files.enumerated() {
            if index > 0 { out += "," }
            out += "{"
            if let etag = file.etag {
                out += "\"etag\":"
                JSONString.quote(etag, into: &out)
                out += ","
            }
            if let modified = file.modified { out += "\"modified\":\(modified)," }
            out += "\"name\":"
            JSONString.quote(file.name, into: &out)
            out += ",\"size\":\(file.size)}"
        }
        out += "]}"
        return out
    }

    /// Reads stored text back; nil when it is not a fingerprint.
    public init?(storedJSON text: String) {
        var text = text
        guard let parsed = text.withUTF8({ DataFingerprint(storedUTF8: $0) }) else { return nil }
        self = parsed
    }

    /// `init(storedJSON:)` over UTF-8 bytes (a database column read in place).
    package init?(storedJSONBytes bytes: UnsafeBufferPointer<UInt8>) {
        self.init(storedUTF8: bytes)
    }

    private init?(storedUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        if let parsed = FingerprintParser.parse(bytes) {
            self = parsed
        } else if let decoded = try? JSONDecoder().decode(DataFingerprint.self, from: Data(buffer: bytes)) {
            self = decoded
        } else {
            return nil
        }
    }
}

/// The fast path of `DataFingerprint(storedJSON:)`: exactly the shape `storedJSON` (or
/// `JSONEncoder` with sorted keys) writes, read from the bytes in place. Any surprise returns nil
/// and the caller decodes with `JSONDecoder` instead.
private struct FingerprintParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> DataFingerprint? {
        var parser = FingerprintParser(bytes: bytes)
        return parser.fingerprint()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private mutating func fingerprint() -> DataFingerprint? {
        guard literal("{\"files\":[") else { return nil }
        var files: [DataFingerprint.File] = []
        if !literal("]") {
            repeat {
                guard let file = file() else { return nil }
                files.append(file)
            } while literal(",")
            guard literal("]") else { return nil }
        }
        guard literal("}"), index == bytes.count else { return nil }
        return DataFingerprint(files: files)
    }

    /// One file object; its keys in sorted order, as both writers put them.
    private mutating func file() -> DataFingerprint.File? {
        guard literal("{") else { return nil }
        var etag: String?, modified: Int64?
        if literal("\"etag\":") {
            guard let value = string(), literal(",") else { return nil }
            etag = value
        }
        if literal("\"modified\":") {
            guard let value = integer(), literal(",") else { return nil }
            modified = value
        }
        guard literal("\"name\":"), let name = string(), literal(",\"size\":"), let size = integer(), literal("}") else { return nil }
        return DataFingerprint.File(name: name, size: size, etag: etag, modified: modified)
    }

    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = text.withUTF8Buffer { expected in
            expected.indices.allSatisfy { bytes[index + $0] == expected[$0] }
        }
        if matches { index += count }
        return matches
    }

    private mutating func integer() -> Int64? {
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var value: Int64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let digit = Int64(bytes[index] &- UInt8(ascii: "0"))
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        return index > start ? value : nil
    }

    /// A string with the escapes `JSONString` and `JSONEncoder` write; `\u` escapes (other than
    /// those of control characters) are left to `JSONDecoder`.
    private mutating func string() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        // Without escapes (the usual case): the string is the bytes up to the closing quote.
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            defer { index = end + 1 }
            return String(validating: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
        }
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count,
                          let value = UInt8(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                          value < 0x20 else { return nil }
                    out.append(value)
                    index += 4
                default: return nil
                }
            default:
                out.append(byte)
            }
        }
        return nil
    }
}
