import RefitCore

/// The failures list: every attempt that ended Failed, TimedOut or Canceled, newest first, with
/// its reason, then every external slice in state Failed with its check's message.
///
/// DOM hooks: `table.failures` rows `tr.failure` with `data-kind` (`run` or `slice`),
/// `data-run-id` for runs.
struct FailureList {
    let snapshot: HistorySnapshot

    static let failedStatuses: Set<String> = ["Failed", "TimedOut", "Canceled"]

    func render() -> String {
        var html = "<section id=\"failures\"><h2>Failures</h2>"
        let runs = snapshot.runs.filter { Self.failedStatuses.contains($0.status) }
            .sorted { ($0.endedAt ?? $0.startedAt, $0.runID) > ($1.endedAt ?? $1.startedAt, $1.runID) }
        let slices = snapshot.slices.filter { $0.state == "Failed" }
        guard !runs.isEmpty || !slices.isEmpty else {
            return html + "<p class=\"nothing\">No failed attempt or slice in this range.</p></section>"
        }
        html += "<table class=\"list failures\"><thead><tr><th>ended</th><th>what</th><th>window</th><th>attempt</th>"
        html += "<th>status</th><th>class</th><th>reason</th><th>run / job</th></tr></thead><tbody>"
        for run in runs {
            html += "<tr class=\"failure\" data-kind=\"run\"" + HTMLText.attribute("data-run-id", run.runID) + ">"
            html += "<td>\(ReportTime.full(run.endedAt))</td><td>\(HTMLText.escape("\(run.pipeline) / \(run.activity)"))</td>"
            html += "<td>\(run.windowStart.iso8601)</td><td>\(run.attempt) (\(HTMLText.escape(run.trigger)))</td>"
            html += "<td>\(HTMLText.escape(run.status + (run.substatus.map { "/\($0)" } ?? "")))</td>"
            html += "<td>\(HTMLText.escape(run.errorClass ?? ""))</td><td>\(HTMLText.escape(run.errorMessage ?? "(no reason recorded)"))</td>"
            html += "<td><code>\(HTMLText.escape(run.runID))</code>"
            html += (run.externalJobID.map { "<br><code>\(HTMLText.escape($0))</code>" } ?? "") + "</td></tr>"
        }
        for slice in slices {
            html += "<tr class=\"failure\" data-kind=\"slice\"" + HTMLText.attribute("data-dataset", slice.dataset) + ">"
            html += "<td>\(ReportTime.full(slice.updatedAt))</td><td>\(HTMLText.escape("dataset \(slice.dataset)"))</td>"
            html += "<td>\(slice.slice.start.iso8601)</td><td>\(slice.checkCount) check\(slice.checkCount == 1 ? "" : "s")</td>"
            html += "<td>\(HTMLText.escape(slice.state + (slice.substate.map { "/\($0)" } ?? "")))</td><td>data</td>"
            html += "<td>\(HTMLText.escape(slice.message ?? "(no reason recorded)"))</td><td></td></tr>"
        }
        return html + "</tbody></table></section>"
    }
}
