import RefitCore

/// Model quality: for each activity whose outputs carry an evaluation, one plot per numeric
/// metric (RMSE, MAE, R2, … as the evaluation output names them) over the windows evaluated.
///
/// DOM hooks: `svg.plot[data-metric]` (the metric name in lower case; `data-metric-name` keeps
/// its spelling, `data-pipeline` and `data-activity` say whose) with one `circle.point` per
/// evaluated window (`data-window-start`, `data-value`).
struct QualityPlots {
    let snapshot: HistorySnapshot

    func render() -> String {
        var html = "<section id=\"quality\"><h2>Model quality</h2>"
        guard !snapshot.evaluations.isEmpty else {
            return html + "<p class=\"nothing\">No evaluated window in this range.</p></section>"
        }
        html += "<p class=\"hint\">Each numeric metric of the training activity's evaluation output, per window (the newest "
        html += "successful attempt's), by window start.</p>"
        let groups = Dictionary(grouping: snapshot.evaluations) { "\($0.pipeline)\u{0}\($0.activity)" }.sorted { $0.key < $1.key }
        for (_, evaluations) in groups {
            let pipeline = evaluations[0].pipeline, activity = evaluations[0].activity
            if groups.count > 1 { html += "<h3>\(HTMLText.escape("\(pipeline) / \(activity)"))</h3>" }
            let names = Array(Set(evaluations.flatMap { $0.metrics.map(\.name) })).sorted()
            html += "<div class=\"plots\">"
            for (index, name) in names.enumerated() {
                let points = evaluations.compactMap { evaluation -> Plot.Point? in
                    guard let value = evaluation.metrics.first(where: { $0.name == name })?.value else { return nil }
                    return Plot.Point(x: Double(evaluation.windowStart.secondsSinceEpoch), y: value,
                                      tooltip: "\(activity) \(evaluation.windowStart.iso8601): \(name) = \(value) (run \(evaluation.runID))",
                                      attributes: [("data-window-start", evaluation.windowStart.iso8601)])
                }
                let plot = Plot(title: "\(name) by window (\(activity))", yLabel: name,
                                series: [Plot.Series(name: name, colour: StatePalette.series[index % StatePalette.series.count],
                                                     points: points)],
                                attributes: [("data-metric", name.lowercased()), ("data-metric-name", name),
                                             ("data-pipeline", pipeline), ("data-activity", activity)])
                html += plot.render()
            }
            html += "</div>"
        }
        return html + "</section>"
    }
}
