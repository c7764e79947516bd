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
    /// Under `--log-format json` each diagnostic is one JSON log line, like the worker's.
    func loadFactory(logFormat: LogFormat = .text) throws -> Factory {
        try Self.loadFactory(directory: schedules, logFormat: logFormat)
    }

    static func loadFactory(directory: String, logFormat: LogFormat = .text) throws -> Factory {
        let result = DefinitionLoader.load(directory: directory)
        for diagnostic in result.diagnostics {
            switch logFormat {
            case .text: Console.error(diagnostic.description)
            case .json: JSONLogHandler.write(level: diagnostic.severity == .error ? "error" : "warning", label: "refit.definitions",
                                             message: diagnostic.description)
            }
        }
        let errors = result.diagnostics.filter { $0.severity == .error }.count
        guard errors == 0, let factory = result.factory else {
            throw CLIFailure.invalidInput("\(directory): \(errors) error\(errors == 1 ? "" : "s") in the definitions.")
        }
        return factory
    }

    /// The definitions for a command that can do without them (`refit slices`): those of
    /// `directory` when given (then they must be valid), else those of `./schedules` if it
    /// holds valid ones (quietly), else nil.
    /// Only errors are printed: warnings are about running the worker (an unset secret), which
    /// a reading command does not do.
    static func optionalFactory(directory: String?) throws -> Factory? {
        if let directory {
            let result = DefinitionLoader.load(directory: directory)
            let errors = result.diagnostics.filter { $0.severity == .error }
            errors.forEach { Console.error($0.description) }
            guard errors.isEmpty, let factory = result.factory else {
                throw CLIFailure.invalidInput("\(directory): \(errors.count) error\(errors.count == 1 ? "" : "s") in the definitions.")
            }
            return factory
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: "./schedules", isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        let result = DefinitionLoader.load(directory: "./schedules")
        return result.diagnostics.contains { $0.severity == .error } ? nil : result.factory
    }
}
