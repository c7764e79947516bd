import Foundation

extension SQLiteConnection {
    /// Appends an event to the hash-chained audit log. Inside a caller's transaction it joins
    /// it (so the event commits or rolls back with the state change it describes); otherwise it
    /// opens its own. Reading the chain's tail and inserting happen under the write lock.
    @discardableResult
    public func appendEvent(_ event: NewAuditEvent) throws -> AuditEvent {
        // Inside a caller's transaction the event is one INSERT, atomic by itself: no savepoint
        // (two statements more for each of the five or so events of a slice).
        isInTransaction ? try Self.append(event, on: self) : try transaction { try Self.append(event, on: $0) }
    }

    private static func append(_ event: NewAuditEvent, on connection: SQLiteConnection) throws -> AuditEvent {
        let tail = try connection.query("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").first
        let id = (tail?.int64("id") ?? 0) + 1
        let prevHash = tail?.string("hash") ?? AuditEvent.genesisHash
        let at = StoreTimestamp.string(from: event.at)
        let windowStart = event.windowStart.map(StoreTimestamp.string(from:))
        let hash = AuditEvent.chainHash(id: id, at: at, kind: event.kind, pipeline: event.pipeline,
                                        activity: event.activity, windowStart: windowStart,
                                        runID: event.runID, detail: event.detail, prevHash: prevHash)
        try connection.execute(
            """
            INSERT INTO events (id, at, kind, pipeline, activity, window_start, run_id, detail, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.integer(id), .text(at), .text(event.kind), SQLiteValue(event.pipeline), SQLiteValue(event.activity),
             SQLiteValue(windowStart), SQLiteValue(event.runID), .text(event.detail), .text(prevHash), .text(hash)])
        return AuditEvent(id: id, at: at, kind: event.kind, pipeline: event.pipeline, activity: event.activity,
                          windowStart: windowStart, runID: event.runID, detail: event.detail,
                          prevHash: prevHash, hash: hash)
    }

    /// Walks the audit log in id order and returns the id of the first event whose hash or
    /// link to its predecessor does not match (an edit, insertion or deletion before it), or
    /// nil when the chain is intact. Streams rows; one statement reads one consistent snapshot.
    /// Removing the newest events leaves a valid shorter chain; compare the tail hash with a
    /// copy kept elsewhere (`AuditEvent.hash` of the last event) to catch that.
    public func verifyEventChain() throws -> Int64? {
        let statement = try prepare(
            "SELECT id, at, kind, pipeline, activity, window_start, run_id, detail, prev_hash, hash FROM events ORDER BY id")
        var previous = AuditEvent.genesisHash
        while try statement.step() {
            let event = AuditEvent(row: statement.row())
            if !event.isIntact(after: previous) { return event.id }
            previous = event.hash
        }
        return nil
    }
}
