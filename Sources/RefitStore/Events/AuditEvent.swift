import Foundation
import RefitCore

/// A stored audit event with its place in the hash chain.
public struct AuditEvent: Sendable, Hashable {
    public let id: Int64
    /// ISO 8601 UTC, whole seconds.
    public let at: String
    public let kind: String
    public let pipeline: String?
    public let activity: String?
    public let windowStart: String?
    public let runID: String?
    public let detail: String
    public let prevHash: String
    public let hash: String

    /// The chain's starting point: the `prev_hash` of the first event.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// `sha256(prevHash || canonical fields)`. Each field is written as `<utf8 length>:<text>`
    /// (or `~` when absent) and joined by newlines, so no two different events share an
    /// encoding. The id is included, so reordering or renumbering rows breaks the chain too.
    package static func chainHash(id: Int64, at: String, kind: String, pipeline: String?, activity: String?,
                          windowStart: String?, runID: String?, detail: String, prevHash: String) -> String
    {
        let fields: [String?] = [String(id), at, kind, pipeline, activity, windowStart, runID, detail]
        let canonical = fields.map { field in field.map { "\($0.utf8.count):\($0)" } ?? "~" }.joined(separator: "\n")
        return SHA256.hex(prevHash + "\n" + canonical)
    }

    /// Whether the stored hash matches the fields and the given predecessor hash.
    func isIntact(after previousHash: String) -> Bool {
        prevHash == previousHash
            && hash == Self.chainHash(id: id, at: at, kind: kind, pipeline: pipeline, activity: activity,
                                      windowStart: windowStart, runID: runID, detail: detail, prevHash: prevHash)
    }

    public init(id: Int64, at: String, kind: String, pipeline: String?, activity: String?, windowStart: String?,
         runID: String?, detail: String, prevHash: String, hash: String)
    {
        self.id = id
        self.at = at
        self.kind = kind
        self.pipeline = pipeline
        self.activity = activity
        self.windowStart = windowStart
        self.runID = runID
        self.detail = detail
        self.prevHash = prevHash
        self.hash = hash
    }

    init(row: Row) {
        self.init(id: row.int64("id") ?? 0, at: row.string("at") ?? "", kind: row.string("kind") ?? "",
                  pipeline: row.string("pipeline"), activity: row.string("activity"),
                  windowStart: row.string("window_start"), runID: row.string("run_id"),
                  detail: row.string("detail") ?? "", prevHash: row.string("prev_hash") ?? "",
                  hash: row.string("hash") ?? "")
    }
}
