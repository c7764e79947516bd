import RefitCore

/// Operator controls per pipeline (`refit pause` / `resume`, D13).
public struct PipelineControlRepository: Sendable {
    let database: SQLiteDatabase

    public init(_ store: Store) { database = store.database }

    /// Pipelines an operator paused.
    public func pausedPipelines() throws -> Set<String> {
        Set(try database.query("SELECT pipeline FROM pipeline_controls WHERE paused = 1").compactMap { $0.string("pipeline") })
    }

    /// Pauses or resumes a pipeline, audited.
    public func setPaused(_ pipeline: String, paused: Bool, reason: String? = nil, now: Instant) throws {
        try database.transaction { c in
            try c.execute("""
                INSERT INTO pipeline_controls (pipeline, paused, reason, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (pipeline) DO UPDATE SET paused = excluded.paused, reason = excluded.reason, updated_at = excluded.updated_at
                """, [.text(pipeline), SQLiteValue(paused), SQLiteValue(reason), StoreText.text(now)])
            try c.appendEvent(NewAuditEvent(at: now.date, kind: paused ? "pipelinePaused" : "pipelineResumed", pipeline: pipeline,
                                            detail: StoreText.json(["reason": reason])))
        }
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
