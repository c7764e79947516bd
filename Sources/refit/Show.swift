import ArgumentParser
import RefitStore

/// `refit show RUN_ID`: one attempt with its journal steps and audit events.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one run: its attempt, journal steps and audit events.")

    @OptionGroup var database: StoreOption
    @Argument(help: "The run id (from `refit history`).") var runID: String
    @Option(help: "Output format: table or json.") var format: ListingFormat = .table

    func run() throws {
        let store = try database.openExisting()
        let repository = RunRepository(store)
        let run: RunRecord
        let steps: [RunStepRecord]
        let events: [AuditEvent]
        do {
            guard let found = try repository.run(id: runID) else {
                throw CLIFailure.invalidInput("No run with id '\(runID)' in \(database.path).")
            }
            run = found
            steps = try repository.steps(runID: runID)
            events = try repository.events(runID: runID)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        let stepRows = steps.map { step in
            ListingRow(fields: [("seq", .int(Int64(step.seq))), ("name", .string(step.name)), ("state", .string(step.state)),
                                ("startedAt", .string(step.startedAt)), ("endedAt", .orNull(step.endedAt)),
                                ("intent", .string(step.intentJSON)), ("result", .orNull(step.resultJSON))])
        }
        let eventRows = events.map { event in
            ListingRow(fields: [("id", .int(event.id)), ("at", .string(event.at)), ("kind", .string(event.kind)),
                                ("detail", .string(event.detail))])
        }
        switch format {
        case .json:
            print(JSONOutput.object(History.row(run).fields + [
                ("steps", .array(stepRows.map { .object($0.fields) })),
                ("events", .array(eventRows.map { .object($0.fields) })),
            ]).render())
        case .table, .csv:
            for (key, value) in History.row(run).fields {
                let text = ListingRow.text(value)
                print("\(key): \(text.isEmpty ? "-" : text)")
            }
            print("")
            print("steps:")
            if stepRows.isEmpty { print("  (none)") } else {
                ListingRow.print(stepRows, format: format, header: ["seq", "name", "state", "startedAt", "endedAt", "intent", "result"],
                                 table: ["seq", "name", "state", "startedAt", "endedAt", "result"])
            }
            print("")
            print("events:")
            ListingRow.print(eventRows, format: format, header: ["id", "at", "kind", "detail"], table: ["id", "at", "kind", "detail"])
        }
    }
}
