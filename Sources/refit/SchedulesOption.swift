import ArgumentParser
import Foundation
import RefitCore
import RefitDefinitions

/// `--schedules DIR`, shared by every command that reads definitions.
struct SchedulesOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The folder of definitions (JSON or YAML, one entity per file).", valueName: "dir"))
    var schedules: String = "./schedules"

    /// Loads and validates the definitions; prints warnings (and errors) to stderr. Throws an
    /// invalid-input failure when any error was found.
    func loadFactory() throws -> Factory {
        let result = DefinitionLoader.load(directory: schedules)
        for diagnostic in result.diagnostics { Console.error(diagnostic.description) }
        let errors = result.diagnostics.filter { $0.severity == .error }.count
        guard errors == 0, let factory = result.factory else {
            throw CLIFailure.invalidInput("\(schedules): \(errors) error\(errors == 1 ? "" : "s") in the definitions.")
        }
        return factory
    }
}
