import Foundation
import RefitCore

/// Read access to the hash-chained audit log (`events`) for `refit audit`: listing and
/// verifying the chain against a tail hash kept elsewhere.
public struct AuditRepository: Sendable {
    public let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    static let columns = "id, at, kind, pipeline, activity, window_start, run_id, detail, prev_hash, hash"

    /// Events at or after `since` (when given) naming `pipeline` (when given), in chain order.
    public func events(since: Instant? = nil, pipeline: String? = nil) throws -> [AuditEvent] {
        try database.query("""
            SELECT \(Self.columns) FROM events
            WHERE (:since IS NULL OR at >= :since) AND (:pipeline IS NULL OR pipeline = :pipeline)
            ORDER BY id
            """, named: ["since": StoreText.text(since), "pipeline": SQLiteValue(pipeline)]).map(AuditEvent.init(row:))
    }

    /// Recomputes the whole chain in one read (one consistent snapshot, streamed row by row)
    /// and, when `expectedTail` is given, where that hash sits in it.
    public func verify(expectedTail: String? = nil) throws -> AuditVerification {
        try database.withConnection { connection in
            let statement = try connection.prepare("SELECT \(Self.columns) FROM events ORDER BY id")
            var verifier = AuditChainVerifier(expectedTail: expectedTail)
            while try statement.step() {
                guard verifier.add(AuditEvent(row: statement.row())) else { break }
            }
            return verifier.verification
        }
    }
}

/// What verifying the audit chain found.
public struct AuditVerification: Hashable, Sendable {
    /// Events verified (all of them when the chain is intact).
    public var count: Int
    /// The hash of the last verified event (the genesis hash for an empty log).
    public var tailHash: String
    /// The first event whose hash or link to its predecessor does not match, or nil.
    public var firstBrokenID: Int64?
    /// How many events follow the expected tail hash: nil when it was not found in the
    /// (verified part of the) chain — truncation, or a hash from another database.
    public var eventsAfterExpectedTail: Int?

    public var isIntact: Bool { firstBrokenID == nil }
}
