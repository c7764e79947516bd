import Foundation
import RefitCore
import RefitStore

/// What `refit run` and `refit tick` record and report besides the protocol: the definitions
/// runs name, and the counts of a tick's summary. Synchronous, as the commands call them.
extension PostgresSchedulingStore {
    /// Records a loaded definition (kind, name, sha256) once.
    public func recordDefinition(kind: String, name: String, sha256: String, json: String, now: Instant) throws {
        try database.writeNow { c in
            try c.execute("""
                INSERT INTO definitions (kind, name, sha256, json, loaded_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (kind, name, sha256) DO NOTHING
                """, [.text(kind), .text(name), .text(sha256), .text(json), .timestamp(now)])
        }
    }

    /// The status of a run (`Succeeded`, `Failed`, …), or nil when there is no such run.
    public func runStatus(id: String) throws -> String? {
        try database.readNow { c in
            try c.query("SELECT status FROM runs WHERE run_id = $1", [.text(id)]).first?.string("status")
        }
    }

    /// How many windows of `pipelines` are in `status`.
    public func windowCount(status: WindowStatus, pipelines: [String]) throws -> Int {
        guard !pipelines.isEmpty else { return 0 }
        return try database.readNow { c in
            try c.query("SELECT count(*) AS n FROM windows WHERE state = $1 AND pipeline = ANY(string_to_array($2, chr(31)))",
                        [.text(status.rawValue), Self.list(pipelines)]).first?.int("n") ?? 0
        }
    }
}
