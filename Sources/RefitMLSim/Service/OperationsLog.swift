import Foundation

/// One mutating call as the emulator received it; tests count submissions and PATCHes with these.
public struct OperationRecord: Codable, Sendable, Equatable {
    /// Time of the call; encoded as ISO 8601 to the second (what existing readers parse).
    public var at: Date
    /// The same time in milliseconds since 1970-01-01 UTC, for latency measurements (`at` has whole
    /// seconds only); nil in lines written before it existed.
    public var atMs: Int64?
    public var op: String
    public var method: String
    /// Request path without the query string, so no SAS or key ever lands in the log.
    public var path: String
    /// HTTP status answered; nil when the connection was dropped by fault injection.
    public var status: Int?
    public var jobId: String?
    public var endpoint: String?
    public var resourceLocation: String?
    /// Injected fault applied to this call, if any (`status`, `latency`, `hold`, `drop`, `malformed`).
    public var fault: String?

    public init(at: Date, op: String, method: String, path: String, status: Int?, jobId: String? = nil,
                endpoint: String? = nil, resourceLocation: String? = nil, fault: String? = nil) {
        self.at = at
        self.atMs = Int64((at.timeIntervalSince1970 * 1000).rounded(.down))
        self.op = op
        self.method = method
        self.path = path
        self.status = status
        self.jobId = jobId
        self.endpoint = endpoint
        self.resourceLocation = resourceLocation
        self.fault = fault
    }
}

/// Append-only operations log: in memory, and as JSON lines in `<state>/operations.jsonl` when a
/// state folder is used.
public final class OperationsLog: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [OperationRecord] = []
    private let fileURL: URL?

    public init(fileURL: URL?) {
        self.fileURL = fileURL
        if let fileURL, let data = try? Data(contentsOf: fileURL) {
            let decoder = Self.decoder()
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                if let record = try? decoder.decode(OperationRecord.self, from: Data(line)) { records.append(record) }
            }
        }
    }

    public func append(_ record: OperationRecord) {
        lock.withLock {
            records.append(record)
            guard let fileURL else { return }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            guard var line = try? encoder.encode(record) else { return }
            line.append(UInt8(ascii: "\n"))
            if let handle = try? FileHandle(forWritingTo: fileURL) {
                defer { try? handle.close() }
                _ = try? handle.seekToEnd()
                try? handle.write(contentsOf: line)
            } else {
                try? line.write(to: fileURL)
            }
        }
    }

    public var all: [OperationRecord] { lock.withLock { records } }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
