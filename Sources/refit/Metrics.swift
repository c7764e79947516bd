import ArgumentParser
import Foundation
import RefitCore
import RefitDefinitions
import RefitRuntime
import RefitStore

/// `refit metrics`: the families derived from the database (windows by state, serving window
/// age, attempts and deployments from history) printed once in the Prometheus text format, for
/// node_exporter's textfile collector from cron. It only reads (the database is opened as
/// `refit status` opens it: a SQLite file migrated when older, a PostgreSQL server never
/// migrated), through `MetricsReading`. The counters and histograms of a running worker
/// (`refit run --metrics-address`) are not in it: they live in that process.
struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the database's metrics once in the Prometheus text format (for a textfile collector).")

    @Option(name: .long, help: ArgumentHelp("The folder of definitions (default: ./schedules when it exists; without definitions only what the database holds is shown).",
                                            valueName: "dir"))
    var schedules: String?
    @OptionGroup var database: StoreOption

    func run() throws {
        let factory = try definitions()
        let store = try database.openReader(migrating: true)
        defer { store.close() }
        let exposition = MetricsExposition()
        do {
            try exposition.refresh(reader: store.metrics, definitions: factory, now: SystemWallClock().now())
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        FileHandle.standardOutput.write(Data(exposition.render().utf8))
    }

    /// The definitions of `--schedules` (invalid ones are an error, exit 1), else of
    /// `./schedules` when that folder exists, else none.
    func definitions() throws -> Factory {
        var isFolder: ObjCBool = false
        guard let directory = schedules ?? (FileManager.default.fileExists(atPath: "./schedules", isDirectory: &isFolder) && isFolder.boolValue
                                            ? "./schedules" : nil) else { return Factory() }
        let result = DefinitionLoader.load(directory: directory)
        let errors = result.diagnostics.filter { $0.severity == .error }
        for diagnostic in errors { Console.error(diagnostic.description) }
        guard errors.isEmpty, let factory = result.factory else {
            throw CLIFailure.invalidInput("\(directory): \(errors.count) error\(errors.count == 1 ? "" : "s") in the definitions.")
        }
        return factory
    }
}
