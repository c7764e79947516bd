import ArgumentParser
import Foundation
import RefitCore
import RefitReport
import RefitRuntime
import RefitStore

/// `refit report`: writes one self-contained HTML file (no network fetches: inline CSS, SVG and
/// script, data embedded as JSON) with the slice grid, the deployment timeline per endpoint,
/// model-quality plots, run durations and data-to-deploy latency, and the failures list. It
/// reads the database read-only, like `history` (a SQLite file or a PostgreSQL server, through
/// `ReportReading`); definitions are optional and, with `--pipeline`, restrict the data slices
/// shown to the pipeline's external inputs.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report: slice grid, deployment timeline, model quality, durations and latency, failures.",
        discussion: """
            Reads the database read-only and writes one self-contained HTML file to --out (replacing it), then prints \
            its path (or, with --format json, a summary). A database without windows yields a page saying there is \
            nothing to show yet. Exit codes: 0 written; 1 unknown --pipeline, --from not before --to, an unwritable \
            --out or a missing database; 2 usage error; 3 unusable database.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .long, help: ArgumentHelp("The folder of definitions (optional; default ./schedules when it holds valid ones).",
                                            valueName: "dir"))
    var schedules: String?
    @OptionGroup var database: StoreOption
    @Option(help: ArgumentHelp("The HTML file to write.", valueName: "file")) var out: String
    @Option(help: "Only this pipeline.") var pipeline: String?
    @Option(help: ArgumentHelp("Only windows ending after this time.", valueName: "time"), transform: TimeArgument.parse)
    var from: Instant?
    @Option(help: ArgumentHelp("Only windows starting before this time.", valueName: "time"), transform: TimeArgument.parse)
    var to: Instant?
    @Option(help: "What to print once written: text (the path) or json (the path and counts).") var format: Format = .text

    func run() throws {
        if let from, let to, from >= to {
            throw CLIFailure.invalidInput("--from (\(from.iso8601)) must be before --to (\(to.iso8601)).")
        }
        let factory = try SchedulesOption.optionalFactory(directory: schedules)
        let store = try database.openReader()
        defer { store.close() }
        let page: ReportPage
        do {
            let repository = store.report
            let recorded = try repository.pipelines()
            var datasets: [String]?
            if let pipeline {
                let definition = factory?.pipelines[pipeline]
                guard recorded.contains(pipeline) || definition != nil else {
                    let known = Set(recorded + (factory.map { Array($0.pipelines.keys) } ?? [])).sorted()
                    let list = known.isEmpty ? "none is recorded yet" : "known pipelines: \(known.joined(separator: ", "))"
                    throw CLIFailure.invalidInput("No pipeline named '\(pipeline)' in \(store.displayName(path: database.path)); \(list).")
                }
                if let definition, let factory {
                    datasets = Set(definition.activities.flatMap(\.inputs).map(\.name)).filter { factory.datasets[$0]?.external == true }.sorted()
                }
            }
            let snapshot = try repository.snapshot(pipeline: pipeline, datasets: datasets, from: from, to: to)
            page = ReportPage(snapshot: snapshot, scope: ReportPage.Scope(pipeline: pipeline, from: from, to: to,
                                                                          source: Self.source(store, path: database.path)),
                              generatedAt: SystemWallClock().now(), databaseHasWindows: !recorded.isEmpty)
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        try Self.write(page.render(), to: out)
        switch format {
        case .text:
            print(out)
        case .json:
            print(JSONOutput.object([
                ("out", .string(out)), ("windows", .int(Int64(page.snapshot.windows.count))),
                ("slices", .int(Int64(page.snapshot.slices.count))), ("attempts", .int(Int64(page.snapshot.runs.count))),
                ("deployments", .int(Int64(page.snapshot.deployments.count))),
                ("evaluatedWindows", .int(Int64(page.snapshot.evaluations.count))), ("empty", .orNull(page.emptyMessage)),
            ]).render())
        }
    }

    /// How the page names the database: a SQLite file by its name, a PostgreSQL server by its
    /// URL without the password (and without query parameters, which may hold credentials).
    static func source(_ store: WorkerDatabase, path: String) -> String {
        switch store {
        case .sqlite: URL(fileURLWithPath: path).lastPathComponent
        case .postgres: store.displayName(path: path)
        }
    }

    /// Writes `text` to `path` through a temporary file in the same folder and a rename, so a
    /// reader never sees half a report; any failure is one sentence (exit 1).
    static func write(_ text: String, to path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CLIFailure.invalidInput("Cannot write the report to '\(path)': it is a folder.")
        }
        let temporary = URL(fileURLWithPath: path).deletingLastPathComponent()
            .appendingPathComponent(".\(URL(fileURLWithPath: path).lastPathComponent).\(getpid()).tmp").path
        func failure(_ code: Int32) -> CLIFailure {
            CLIFailure.invalidInput("Cannot write the report to '\(path)': \(String(cString: strerror(code))).")
        }
        guard let file = fopen(temporary, "w") else { throw failure(errno) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        let writeError = written == bytes.count ? 0 : errno
        if fclose(file) != 0 || writeError != 0 {
            let code = writeError != 0 ? writeError : errno
            unlink(temporary)
            throw failure(code)
        }
        chmod(temporary, 0o644)
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw failure(code)
        }
    }
}
