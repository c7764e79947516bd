import RefitCore

/// What `refit audit` reads, on any store: the SQLite `AuditRepository` or PostgreSQL's reader
/// return the same events and verify the chain with the same `AuditChainVerifier`. Read-only.
public protocol AuditReading: Sendable {
    /// Events at or after `since` (when given) naming `pipeline` (when given), in chain order.
    func events(since: Instant?, pipeline: String?) throws -> [AuditEvent]
    /// Recomputes the whole chain in one consistent read and, when `expectedTail` is given,
    /// where that hash sits in it.
    func verify(expectedTail: String?) throws -> AuditVerification
}

extension AuditRepository: AuditReading {}

/// Recomputes the audit chain event by event, in id order: the one verifier every store uses,
/// so a chain verifies (or breaks at the same event) wherever it is stored.
public struct AuditChainVerifier: Sendable {
    /// What the events given so far verified.
    public private(set) var verification: AuditVerification
    private let expected: String?

    public init(expectedTail: String?) {
        verification = AuditVerification(count: 0, tailHash: AuditEvent.genesisHash, firstBrokenID: nil,
                                         eventsAfterExpectedTail: expectedTail == AuditEvent.genesisHash ? 0 : nil)
        expected = expectedTail?.lowercased()
    }

    /// Checks the next event; false (and `firstBrokenID` set) when its hash or link does not
    /// match, after which no further event should be given.
    public mutating func add(_ event: AuditEvent) -> Bool {
        guard event.isIntact(after: verification.tailHash) else {
            verification.firstBrokenID = event.id
            return false
        }
        verification.count += 1
        verification.tailHash = event.hash
        if let after = verification.eventsAfterExpectedTail {
            verification.eventsAfterExpectedTail = after + 1
        } else if event.hash == expected {
            verification.eventsAfterExpectedTail = 0
        }
        return true
    }
}
