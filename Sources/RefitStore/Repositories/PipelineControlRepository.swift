import RefitCore

/// Operator controls per pipeline (`refit pause` / `resume`, D13).
public struct PipelineControlRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    init(database: SQLiteDatabase) { self.database = database }

    /// Pipelines an operator paused.
    public func pausedPipelines() throws -> Set<String> {
        Set(try database.query("SELECT pipeline FROM pipeline_controls WHERE paused = 1").compactMap { $0.string("pipeline") })
    }

    /// Pauses or resumes a pipeline, audited with who did it (`actor`) and why.
    public func setPaused(_ pipeline: String, paused: Bool, actor: String? = nil, reason: String? = nil, now: Instant) throws {
        try database.transaction { c in
            try Self.setPaused(c, pipeline, paused: paused, actor: actor, reason: reason, now: now)
        }
    }

    /// The pause or resume itself, inside the caller's transaction.
    static func setPaused(_ c: SQLiteConnection, _ pipeline: String, paused: Bool, actor: String?, reason: String?, now: Instant) throws {
        try c.execute("""
            INSERT INTO pipeline_controls (pipeline, paused, reason, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (pipeline) DO UPDATE SET paused = excluded.paused, reason = excluded.reason, updated_at = excluded.updated_at
            """, [.text(pipeline), SQLiteValue(paused), SQLiteValue(reason), StoreText.text(now)])
        try c.appendEvent(NewAuditEvent(at: now.date, kind: paused ? "pipelinePaused" : "pipelineResumed", pipeline: pipeline,
                                        detail: StoreText.json(["reason": reason, "actor": actor])))
    }

    /// The operator's pause of each pipeline that has a control row: paused or not, why, since
    /// when, and who (from the latest pause or resume event).
    public func controls() throws -> [String: PipelineControl] {
        var result: [String: PipelineControl] = [:]
        for row in try database.query("""
            SELECT c.pipeline, c.paused, c.reason, c.updated_at,
                   (SELECT json_extract(e.detail, '$.actor') FROM events e
                     WHERE e.pipeline = c.pipeline AND e.kind IN ('pipelinePaused', 'pipelineResumed') ORDER BY e.id DESC LIMIT 1) AS actor
            FROM pipeline_controls c
            """) {
            guard let pipeline = row.string("pipeline"), let since = StoreText.instant(row, "updated_at") else { continue }
            result[pipeline] = PipelineControl(paused: row.int("paused") == 1, reason: row.string("reason"), actor: row.string("actor"),
                                               since: since)
        }
        return result
    }
}

/// The resolved definitions runs refer to by sha256.
public struct DefinitionRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    /// Records a definition version once (idempotent on kind, name and sha256). `json` must be
    /// a JSON document without secrets.
    public func record(kind: String, name: String, sha256: String, json: String, now: Instant) throws {
        try database.execute("""
            INSERT INTO definitions (kind, name, sha256, json, loaded_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (kind, name, sha256) DO NOTHING
            """, [.text(kind), .text(name), .text(sha256), .text(json), StoreText.text(now)])
    }
}
