/// Every definition of a schedules folder, resolved by name: what ADF calls a data factory.
public struct Factory: Hashable, Sendable {
    public var linkedServices: [String: LinkedService]
    public var datasets: [String: Dataset]
    public var pipelines: [String: Pipeline]

    public init(linkedServices: [String: LinkedService] = [:], datasets: [String: Dataset] = [:],
                pipelines: [String: Pipeline] = [:]) {
        self.linkedServices = linkedServices; self.datasets = datasets; self.pipelines = pipelines
    }

    /// The dataset an activity's first output names: it drives the activity's schedule.
    public func scheduleDataset(of activity: Activity) -> Dataset? {
        activity.outputs.first.flatMap { datasets[$0] }
    }

    /// The activity's windows follow its `scheduler`, or else its output dataset's availability.
    public func schedule(of activity: Activity) -> Availability? {
        activity.scheduler ?? scheduleDataset(of: activity)?.availability
    }
}
