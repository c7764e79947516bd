import RefitCore

/// Run durations (each ended attempt's end − start, by start time, one series per activity)
/// and the data-to-deploy latency: for each deployment made by an update run (not a rollback),
/// the time from the moment Refit found the newest external input slice behind the model Ready
/// (the slice's check that saw its data; walked through the runs' recorded inputs) to the
/// deployment, which is recorded when the update activity's run succeeds.
///
/// DOM hooks: `svg.plot[data-plot=durations]` with `circle.point` per ended attempt
/// (`data-run-id`, `data-status`) and `svg.plot[data-plot=latency]` with `circle.point` per
/// deployment (`data-window-start`).
struct RunTimings {
    let snapshot: HistorySnapshot

    func render() -> String {
        var html = "<section id=\"timings\"><h2>Run durations and data-to-deploy latency</h2>"
        let multiplePipelines = Set(snapshot.runs.map(\.pipeline)).count > 1
        let byActivity = Dictionary(grouping: snapshot.runs.filter { $0.endedAt != nil }) {
            multiplePipelines ? "\($0.pipeline) / \($0.activity)" : $0.activity
        }.sorted { $0.key < $1.key }
        let durations = Plot(
            title: "Run duration by start time", yLabel: "seconds",
            series: byActivity.enumerated().map { index, group in
                Plot.Series(name: group.key, colour: StatePalette.series[index % StatePalette.series.count], points: group.value.map { run in
                    let seconds = Double(run.endedAt!.secondsSinceEpoch - run.startedAt.secondsSinceEpoch)
                    return Plot.Point(x: Double(run.startedAt.secondsSinceEpoch), y: seconds,
                                      tooltip: "\(run.activity) \(run.windowStart.iso8601) attempt \(run.attempt): \(run.status), "
                                          + "\(ReportTime.duration(seconds: Int64(seconds))) from \(run.startedAt.iso8601)",
                                      attributes: [("data-run-id", run.runID), ("data-status", run.status),
                                                   ("data-window-start", run.windowStart.iso8601)])
                }, connected: false)
            },
            yFromZero: true, attributes: [("data-plot", "durations")])
        html += "<p class=\"hint\"><strong>Run duration</strong>: end − start of every ended attempt, as the run history records "
        html += "them (whole seconds).</p>"

        let deployments = snapshot.deployments.filter { !$0.isRollback && $0.dataReadyAt != nil && $0.dataReadyAt! <= $0.deployedAt }
        let byEndpoint = Dictionary(grouping: deployments) { HTMLText.withoutQuery($0.endpoint) }.sorted { $0.key < $1.key }
        let latency = Plot(
            title: "Data-to-deploy latency by deployment time", yLabel: "seconds",
            series: byEndpoint.enumerated().map { index, group in
                Plot.Series(name: group.key, colour: StatePalette.series[index % StatePalette.series.count], points: group.value.map { d in
                    let seconds = Double(d.deployedAt.secondsSinceEpoch - d.dataReadyAt!.secondsSinceEpoch)
                    return Plot.Point(x: Double(d.deployedAt.secondsSinceEpoch), y: seconds,
                                      tooltip: "window \(d.modelWindowStart.iso8601): data Ready \(d.dataReadyAt!.iso8601), "
                                          + "deployed \(d.deployedAt.iso8601) (\(ReportTime.duration(seconds: Int64(seconds))))",
                                      attributes: [("data-window-start", d.modelWindowStart.iso8601)])
                })
            },
            yFromZero: true, attributes: [("data-plot", "latency")])
        html += "<p class=\"hint\"><strong>Data-to-deploy latency</strong>: from the time Refit found the newest external input "
        html += "slice behind a model Ready (its check that saw the data, followed through the recorded inputs of the update "
        html += "and training runs) to the deployment, recorded when the update activity's run succeeded. Rollbacks are left out.</p>"
        html += "<div class=\"plots\">" + durations.render() + latency.render() + "</div>"
        return html + "</section>"
    }
}
