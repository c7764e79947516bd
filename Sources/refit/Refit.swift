import ArgumentParser
import Foundation

/// `refit`: the command-line face of Refit. Exit codes (DESIGN.md §7): 0 ok, 1 invalid input or a
/// failed check, 2 usage error, other non-zero for internal failures.
@main
struct Refit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refit",
        abstract: "Time-sliced model retraining in the style of Azure Data Factory v1.",
        discussion: """
            Exit codes: 0 ok; 1 invalid definitions, input or a failed check; 2 usage error; \
            3 internal failure (for example an unusable database); 4 `backfill --wait` ended with a Failed window \
            (or was interrupted before the end).
            """,
        subcommands: [Validate.self, Plan.self, Tick.self, RunWorker.self, Slices.self, History.self, Show.self,
                      Rerun.self, Skip.self, Pause.self, Resume.self, Backfill.self, Backfills.self, Status.self, Lineage.self]
    )

    /// Parses, runs and maps every failure to one sentence on stderr and a documented exit code.
    static func main() {
        // A file size limit (ulimit -f) must fail the write like a full disk (SQLite reports
        // SQLITE_FULL, one sentence, exit 3), not kill the process with SIGXFSZ mid-transaction.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CLIFailure {
            Console.error(failure.message)
            Foundation.exit(failure.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if code == .validationFailure {
                Console.error(fullMessage(for: error))
                Foundation.exit(CLIFailure.usageExitCode)
            }
            if let code = error as? ExitCode { Foundation.exit(code.rawValue) }
            Console.error("refit: \(error)")
            Foundation.exit(CLIFailure.internalExitCode)
        }
    }
}

/// A failure the CLI reports as one sentence with a documented exit code.
struct CLIFailure: Error {
    static let invalidInputExitCode: Int32 = 1
    static let usageExitCode: Int32 = 2
    static let internalExitCode: Int32 = 3

    var message: String
    var exitCode: Int32

    static func invalidInput(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: invalidInputExitCode) }
    static func usage(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: usageExitCode) }
    static func `internal`(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: internalExitCode) }
}

enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line.hasSuffix("\n") ? line : line + "\n").utf8))
    }
}
