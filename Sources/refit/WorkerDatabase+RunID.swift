import RefitPostgres
import RefitRuntime
import RefitStore

extension WorkerDatabase {
    /// The run id `text` names (the full id or a unique prefix); unknown or ambiguous is invalid input.
    func resolveRunID(_ text: String, databaseName: String) throws -> String {
        switch self {
        case .sqlite(let store):
            return try RunIDResolver.resolve(text, store: store, databasePath: databaseName)
        case .postgres(let store):
            let matches: [String]
            do {
                matches = try store.runIDs(prefix: text, limit: 4)
            } catch let error as StoreError {
                throw CLIFailure.internal(error.message)
            }
            if let exact = matches.first(where: { $0 == text }) { return exact }
            if matches.count == 1 { return matches[0] }
            if matches.isEmpty { throw CLIFailure.invalidInput("No run with id '\(text)' in the PostgreSQL database.") }
            throw CLIFailure.invalidInput("The run id prefix '\(text)' is ambiguous: it matches \(matches.prefix(3).joined(separator: ", "))"
                                          + (matches.count > 3 ? " and more" : "") + "; give more characters.")
        }
    }
}
