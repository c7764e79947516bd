import ArgumentParser
import RefitRuntime
import RefitStore

/// `refit audit verify`: recomputes every event's hash and link. Exit 0 when the chain is
/// intact (printing the event count and the tail hash, to keep elsewhere); exit 1 naming the
/// first event that does not verify, or when `--expect-tail` is not in the chain (truncation).
struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the audit log's hash chain; exit 1 if it is broken or truncated.",
        discussion: """
            Prints the number of events and the tail hash. With --expect-tail HASH (a tail hash printed earlier), \
            the chain must contain HASH: as its tail, or followed by newer events (their number is printed); \
            a chain without it was truncated or replaced (exit 1). A broken chain exits 1 naming the first event \
            whose hash or link does not verify.
            """)

    @OptionGroup var database: StoreOption
    @Option(name: .customLong("expect-tail"), help: ArgumentHelp("A tail hash kept from an earlier verify.", valueName: "hash"))
    var expectTail: String?
    @Option(help: "Output format: table (one sentence) or json (one object).") var format: Format = .table

    enum Format: String, CaseIterable, ExpressibleByArgument { case table, json }

    func validate() throws {
        if let expectTail, expectTail.count != 64 || !expectTail.allSatisfy(\.isHexDigit) {
            throw ValidationError("--expect-tail must be a 64-digit hex SHA-256 hash; got '\(expectTail)'.")
        }
    }

    func run() throws {
        let store = try database.openReader()
        defer { store.close() }
        let result: AuditVerification
        do {
            result = try store.auditLog.verify(expectedTail: expectTail)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        if let broken = result.firstBrokenID {
            throw CLIFailure.invalidInput("The audit chain of \(store.displayName(path: database.path)) is broken at event \(broken): its hash or its link "
                                          + "to the previous event does not match (\(result.count) events before it verify).")
        }
        let events = "\(result.count) event\(result.count == 1 ? "" : "s")"
        guard let expectTail else {
            report(result, "The audit chain is intact: \(events), tail hash \(result.tailHash).")
            return
        }
        guard let after = result.eventsAfterExpectedTail else {
            throw CLIFailure.invalidInput("Truncation detected: the expected tail hash \(expectTail.lowercased()) is not in the audit "
                                          + "chain of \(store.displayName(path: database.path)) (\(events), tail hash \(result.tailHash)).")
        }
        report(result, after == 0
            ? "The audit chain is intact: \(events), tail hash \(result.tailHash), which is the expected tail."
            : "The audit chain is intact: \(events), tail hash \(result.tailHash); \(after) event\(after == 1 ? "" : "s") "
            + "followed the expected tail.")
    }

    private func report(_ result: AuditVerification, _ sentence: String) {
        switch format {
        case .table:
            print(sentence)
        case .json:
            print(JSONOutput.object([
                ("intact", .bool(true)), ("events", .int(Int64(result.count))), ("tailHash", .string(result.tailHash)),
                ("eventsAfterExpectedTail", result.eventsAfterExpectedTail.map { .int(Int64($0)) } ?? .null),
            ]).render())
        }
    }
}
