import ArgumentParser

/// `refit audit`: the hash-chained audit log — `refit audit [list]` shows events,
/// `refit audit verify` recomputes the chain. Both read the database read-only.
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List the audit log's events, or verify its hash chain.",
        subcommands: [AuditList.self, AuditVerify.self],
        defaultSubcommand: AuditList.self)
}
