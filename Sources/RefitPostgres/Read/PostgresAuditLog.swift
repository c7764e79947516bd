import RefitCore
import RefitStore

/// What `refit audit` reads, from PostgreSQL: the same events as the SQLite `AuditRepository`
/// (workers append them with the same chain hash), verified by the same `AuditChainVerifier`.
/// Read-only.
public struct PostgresAuditLog: AuditReading {
    let database: PostgresDatabase

    /// Events read per round trip while verifying.
    static let batch = 5_000

    public init(_ store: PostgresSchedulingStore) { database = store.database }

    public func events(since: Instant?, pipeline: String?) throws -> [AuditEvent] {
        try database.readNow { c in
            try c.query("""
                SELECT \(AuditEvent.postgresColumns) FROM events
                WHERE ($1::text IS NULL OR at >= $1::text) AND ($2::text IS NULL OR pipeline = $2::text)
                ORDER BY id
                """, [PostgresValue(since?.iso8601), PostgresValue(pipeline)]).map(AuditEvent.init(postgres:))
        }
    }

    /// Reads the chain in batches inside one read-only snapshot, so events appended meanwhile
    /// by running workers are neither half-seen nor able to break the verification.
    public func verify(expectedTail: String?) throws -> AuditVerification {
        try database.snapshotNow { c in
            var verifier = AuditChainVerifier(expectedTail: expectedTail)
            var after: Int64 = .min
            while true {
                let rows = try c.query("SELECT \(AuditEvent.postgresColumns) FROM events WHERE id > $1 ORDER BY id LIMIT $2",
                                       [.integer(after), .integer(Int64(Self.batch))])
                for row in rows {
                    let event = AuditEvent(postgres: row)
                    guard verifier.add(event) else { return verifier.verification }
                    after = event.id
                }
                if rows.count < Self.batch { return verifier.verification }
            }
        }
    }
}
