import RefitCore

/// The windows a rerun resets: the named ones and, transitively, every window that consumes
/// their outputs for the same period (ADF's "rerun with upstream/downstream"). Pure: it reads
/// the definitions only, so the CLI can compute a rerun without building a worker; windows that
/// do not exist yet are the caller's to drop.
public enum DownstreamWalk {
    /// `roots` first, then their consumers' windows breadth-first (so a producer comes before
    /// the windows reading it), each window once.
    public static func targets(from roots: [WindowTarget], factory: Factory) -> [WindowTarget] {
        var queue = roots
        var seen = Set<WindowTarget>()
        var result: [WindowTarget] = []
        var index = 0
        while index < queue.count {
            let target = queue[index]
            index += 1
            guard seen.insert(target).inserted else { continue }
            result.append(target)
            guard let pipeline = factory.pipelines[target.key.pipeline], let activity = pipeline.activity(named: target.key.activity),
                  let schedule = try? factory.windows(of: activity, in: pipeline) else { continue }
            let own = schedule.windows(from: target.start, to: target.start + TimeSpan(seconds: 1))
            guard let window = own.first, window.start == target.start else { continue }
            for (consumer, consumerActivity) in consumers(of: activity, factory: factory) {
                guard let consumerSchedule = try? factory.windows(of: consumerActivity, in: consumer) else { continue }
                for next in consumerSchedule.windows(from: window.start, to: window.end) {
                    queue.append(WindowTarget(key: ActivityKey(pipeline: consumer.name, activity: consumerActivity.name), start: next.start))
                }
            }
        }
        return result
    }

    /// Activities (of any pipeline) that read a dataset `activity` produces.
    static func consumers(of activity: Activity, factory: Factory) -> [(Pipeline, Activity)] {
        let outputs = Set(activity.outputs)
        return factory.pipelines.keys.sorted().compactMap { factory.pipelines[$0] }.flatMap { pipeline in
            pipeline.activities.filter { consumer in consumer.inputs.contains { outputs.contains($0.name) } }.map { (pipeline, $0) }
        }
    }
}
