import ArgumentParser
import RefitRuntime
import RefitStore

/// `refit show RUN_ID`: one attempt with its journal steps and audit events, and for an
/// attempt that resumed an earlier attempt's job, which job and which run submitted it.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one run: its attempt, journal steps and audit events.",
        discussion: """
            RUN_ID may be a unique prefix of a run id. An unknown or ambiguous one is invalid input (exit 1). \
            Reads the database read-only.
            """)

    @OptionGroup var database: StoreOption
    @Argument(help: "The run id (from `refit history`), or a unique prefix of it.") var runID: String
    @Option(help: "Output format: table or json.") var format: Format = .table

    enum Format: String, CaseIterable, ExpressibleByArgument { case table, json }

    func validate() throws {
        if runID.isEmpty { throw ValidationError("RUN_ID must not be empty.") }
    }

    func run() throws {
        let store = try database.openReader()
        defer { store.close() }
        let repository = store.runHistory
        let run: RunRecord
        let steps: [RunStepRecord]
        let events: [AuditEvent]
        let resumed: ResumedJob?
        let orphanRun: String?
        do {
            run = try RunIDResolver.run(runID, repository: repository, databasePath: store.displayName(path: database.path))
            steps = try repository.steps(runID: run.runID)
            events = try repository.events(runID: run.runID)
            resumed = try repository.resumedJobs(of: run).first
            orphanRun = try repository.orphanedSubmitRun(of: run)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        let lineage: [(String, JSONOutput)] = [
            ("resumedJobId", .orNull(resumed?.jobID)), ("resumedFromRunId", .orNull(resumed?.submittedByRunID)),
            ("orphanedSubmitRunId", .orNull(orphanRun)),
        ]
        let stepRows = steps.map { step in
            ListingRow(fields: [("seq", .int(Int64(step.seq))), ("name", .string(step.name)), ("state", .string(step.state)),
                                ("startedAt", .string(step.startedAt)), ("endedAt", .orNull(step.endedAt)),
                                ("intent", .string(step.intentJSON)), ("result", .orNull(step.resultJSON))])
        }
        let eventRows = events.map(AuditList.row)
        switch format {
        case .json:
            print(JSONOutput.object(History.row(run).fields + lineage + [
                ("steps", .array(stepRows.map { .object($0.fields) })),
                ("events", .array(eventRows.map { .object($0.fields) })),
            ]).render())
        case .table:
            for (key, value) in History.row(run).fields {
                let text = ListingRow.text(value)
                print("\(key): \(text.isEmpty ? "-" : text)")
            }
            if let resumed {
                print("resumed: job \(resumed.jobID), submitted by run \(resumed.submittedByRunID)")
            }
            if let orphanRun {
                print("orphan: the submit of run \(orphanRun) has an unknown outcome; the job it may have created could be orphaned")
            }
            print("")
            print("steps:")
            if stepRows.isEmpty { print("  (none)") } else {
                ListingRow.print(stepRows, format: .table, header: ["seq", "name", "state", "startedAt", "endedAt", "intent", "result"],
                                 table: ["seq", "name", "state", "startedAt", "endedAt", "result"])
            }
            print("")
            print("events:")
            ListingRow.print(eventRows, format: .table, header: AuditList.header, table: ["id", "at", "kind", "detail", "hash"])
        }
    }
}
