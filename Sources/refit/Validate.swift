import ArgumentParser
import RefitCore

/// `refit validate`: every problem of the definitions at once, as `file:line:column: message`.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the definitions and report every problem at once.",
        discussion: "Exit 0 when valid (warnings go to stderr); 1 with every problem on stderr as file:line:column: message."
    )

    @OptionGroup var definitions: SchedulesOption

    func run() throws {
        let factory = try definitions.loadFactory()
        let activities = factory.pipelines.values.reduce(0) { $0 + $1.activities.count }
        print("\(definitions.schedules): \(factory.linkedServices.count) linked services, \(factory.datasets.count) datasets, "
              + "\(factory.pipelines.count) pipelines (\(activities) activities): valid.")
    }
}
