import ArgumentParser
import Foundation

/// `refit`: the command-line face of Refit. Exit codes (README, *The CLI*): 0 ok, 1 invalid input or a
/// failed check, 2 usage error, other non-zero for internal failures.
@main
struct Refit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refit",
        abstract: "Time-sliced model retraining in the style of Azure Data Factory v1.",
        discussion: """
            Exit codes: 0 ok; 1 invalid definitions, input or a failed check; 2 usage error; \
            3 internal failure (for example an unusable database); 4 `backfill --wait` ended with a Failed window \
            (or was interrupted before the end).
            """,
        subcommands: [Validate.self, Plan.self, Tick.self, RunWorker.self, Slices.self, History.self, Show.self, Audit.self,
                      Rerun.self, Skip.self, Pause.self, Resume.self, Backfill.self, Backfills.self, Cancel.self, Rollback.self,
                      Status.self, Lineage.self, Report.self, Metrics.self, DbCopy.self]
    )

    /// Parses, runs and maps every failure to one sentence on stderr and a documented exit code.
    static func main() async {
        MallocArenas.limit()
        // A file size limit (ulimit -f) must fail the write like a full disk (SQLite reports
        // SQLITE_FULL, one sentence, exit 3), not kill the process with SIGXFSZ mid-transaction.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
            leave(0)
        } catch let failure as CLIFailure {
            Console.error(failure.message)
            leave(failure.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                leave(0)
            }
            if code == .validationFailure {
                Console.error(usageSentence(fullMessage(for: error)))
                leave(CLIFailure.usageExitCode)
            }
            if let code = error as? ExitCode { leave(code.rawValue) }
            Console.error("refit: \(error)")
            leave(CLIFailure.internalExitCode)
        }
    }

    /// Ends the process once the command is done: its stores are closed and its output is
    /// written, so after flushing standard I/O it leaves without the exit handlers and static
    /// destructors of the linked runtime and libraries, about 0.4 ms of every short command.
    private static func leave(_ code: Int32) -> Never {
        fflush(nil)
        _exit(code)
    }
}

/// A usage error as one line: ArgumentParser's first line (the problem) without its `Error: `
/// prefix and without the usage and help lines that follow, ending with a period. `--help`
/// shows the usage.
func usageSentence(_ message: String) -> String {
    var line = message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? message
    if line.hasPrefix("Error: ") { line.removeFirst("Error: ".count) }
    line = line.trimmingCharacters(in: .whitespaces)
    return line.hasSuffix(".") ? line : line + "."
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
    /// `tick` and `run` set this from `--log-format` before doing anything else, so that under
    /// `json` even their last sentence (a failure) is a JSON log line like the rest of their
    /// stderr. Written once on the main thread before any concurrent work, read afterwards.
    nonisolated(unsafe) static var logFormat: LogFormat = .text

    static func error(_ line: String) {
        if logFormat == .json {
            JSONLogHandler.write(level: "error", label: "refit", message: line.hasSuffix("\n") ? String(line.dropLast()) : line)
            return
        }
        FileHandle.standardError.write(Data((line.hasSuffix("\n") ? line : line + "\n").utf8))
    }
}
