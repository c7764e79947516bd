import ArgumentParser

/// `--max-parallel` and `--log-format`, shared by `tick` and `run`.
struct WorkerOptions: ParsableArguments {
    @Option(name: .customLong("max-parallel"), help: "Attempts this process runs at once.")
    var maxParallel: Int = 8

    @Option(name: .customLong("log-format"), help: "Log lines on stderr as text or json (one object per line).")
    var logFormat: LogFormat = .text

    func validate() throws {
        guard maxParallel >= 1 else { throw ValidationError("--max-parallel must be at least 1.") }
    }
}
