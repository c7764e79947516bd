import ArgumentParser
import Foundation
import RefitCore
import RefitStore

/// `refit metrics`: the families derived from the database (windows by state, serving window
/// age, attempts and deployments from history) printed once in the Prometheus text format, for
/// node_exporter's textfile collector from cron. It only reads (the database is opened as
/// `refit status` opens it, migrated when older). The counters and histograms of a
/// running worker (`refit run --metrics-address`) are not in it: they live in that process.
struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the database's metrics once in the Prometheus text format (for a textfile collector).")

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption

    func run() throws {
        let factory = try OperatorInput.loadFactory(definitions)
        let store = try database.openExisting()
        defer { store.close() }
        let exposition = MetricsExposition()
        do {
            try exposition.refresh(store: store, definitions: factory, now: SystemWallClock().now())
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        }
        FileHandle.standardOutput.write(Data(exposition.render().utf8))
    }
}
