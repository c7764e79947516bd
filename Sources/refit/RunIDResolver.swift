import RefitStore

/// A run id as typed by a user: the full id or a unique prefix of it (`show`, `cancel`).
enum RunIDResolver {
    /// The run matching `text`; an unknown or ambiguous prefix is invalid input (exit 1).
    static func run(_ text: String, repository: any RunHistoryReading, databasePath: String) throws -> RunRecord {
        let matches: [RunRecord]
        do {
            matches = try repository.runs(idPrefix: text, limit: 4)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        if let exact = matches.first(where: { $0.runID == text }) { return exact }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty {
            throw CLIFailure.invalidInput("No run with id '\(text)' in \(databasePath); see `refit history`.")
        }
        let shown = matches.prefix(3).map(\.runID).joined(separator: ", ")
        throw CLIFailure.invalidInput("The run id prefix '\(text)' is ambiguous: it matches \(shown)"
                                      + (matches.count > 3 ? " and more" : "") + "; give more characters.")
    }

    static func resolve(_ text: String, store: Store, databasePath: String) throws -> String {
        try run(text, repository: RunRepository(store), databasePath: databasePath).runID
    }
}
