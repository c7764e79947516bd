import RefitCore

/// The slice grid: one row per external dataset (slices from the `slices` table) and per
/// activity, one column per window start, one `td.cell` per window or slice coloured by its
/// state. Each cell has a `title` tooltip and an entry in the page's embedded JSON
/// (`cells[data-id]`) that the details panel shows on click.
///
/// DOM hooks: `td.cell` with `data-kind` (`window` or `slice`), `data-id`, `data-state`,
/// `data-substate`, `data-window-start`, `data-window-end`, `data-pipeline` and `data-activity`
/// (windows) or `data-dataset` (slices); `li.legend-item` with `data-state` and
/// `data-state-colour`.
struct SliceGrid {
    let snapshot: HistorySnapshot

    /// One grid row: a label and its cells by start.
    private struct Row {
        var label: String
        var kind: String
        var entries: [Entry]
    }

    private struct Entry {
        var id: String
        var slice: Slice
        var state: String
        var substate: String?
        var attributes: [(String, String)]
        var tooltip: String
        var details: JSONText
    }

    func render() -> (html: String, cells: [(String, JSONText)]) {
        let rows = self.rows()
        let columns = Array(Set(rows.flatMap { $0.entries.map(\.slice.start) })).sorted()
        let sameDay = Set(columns.map(\.dayNumber)).count <= 1
        var html = "<section id=\"grid\"><h2>Slice grid</h2>"
        html += "<p class=\"hint\">One row per external dataset and per activity, one cell per window, coloured by state. "
        html += "Hover a cell for a summary; click it for its attempts, errors, job ids and times.</p>"
        html += legend()
        html += "<div class=\"grid-scroll\"><table class=\"grid\"><thead><tr><th class=\"row-label\">window start (UTC)</th>"
        for column in columns {
            html += "<th class=\"column\"" + HTMLText.attribute("title", column.iso8601) + "><span>"
            html += HTMLText.escape(ReportTime.short(column, sameDay: sameDay)) + "</span></th>"
        }
        html += "</tr></thead><tbody>"
        var cells: [(String, JSONText)] = []
        for row in rows {
            html += "<tr" + HTMLText.attribute("data-row-kind", row.kind) + "><th class=\"row-label\">\(HTMLText.escape(row.label))</th>"
            let byStart = Dictionary(row.entries.map { ($0.slice.start, $0) }, uniquingKeysWith: { first, _ in first })
            var index = 0
            while index < columns.count {
                guard let entry = byStart[columns[index]] else {
                    html += "<td class=\"empty\"></td>"
                    index += 1
                    continue
                }
                // A window longer than the columns' spacing spans the columns it covers.
                var span = 1
                while index + span < columns.count, columns[index + span] < entry.slice.end, byStart[columns[index + span]] == nil { span += 1 }
                html += "<td class=\"cell\"" + (span > 1 ? " colspan=\"\(span)\"" : "")
                html += HTMLText.attribute("data-id", entry.id) + HTMLText.attribute("data-kind", row.kind)
                html += HTMLText.attribute("data-state", entry.state) + HTMLText.attribute("data-substate", entry.substate ?? "")
                html += HTMLText.attribute("data-window-start", entry.slice.start.iso8601)
                html += HTMLText.attribute("data-window-end", entry.slice.end.iso8601)
                for (name, value) in entry.attributes { html += HTMLText.attribute(name, value) }
                html += HTMLText.attribute("style", "background-color:\(StatePalette.colour(entry.state))")
                html += HTMLText.attribute("title", entry.tooltip) + " tabindex=\"0\">"
                html += entry.substate == "Superseded" ? "<span class=\"mark\">s</span>" : ""
                html += "</td>"
                index += span
            }
            html += "</tr>"
        }
        html += "</tbody></table></div>"
        html += "<section id=\"details\" class=\"details\" hidden><h3 id=\"details-title\"></h3><dl id=\"details-fields\"></dl>"
        html += "<table id=\"details-attempts\" class=\"list\"></table></section>"
        html += "</section>"
        for row in rows {
            for entry in row.entries { cells.append((entry.id, entry.details)) }
        }
        return (html, cells)
    }

    private func legend() -> String {
        let present = Set(snapshot.windows.map(\.state) + snapshot.slices.map(\.state))
        var html = "<ul class=\"legend\">"
        for (state, colour) in StatePalette.legend(present: present) {
            html += "<li class=\"legend-item\"" + HTMLText.attribute("data-state", state) + HTMLText.attribute("data-state-colour", colour)
            html += HTMLText.attribute("data-present", present.contains(state) ? "true" : "false") + ">"
            html += "<span class=\"swatch\"" + HTMLText.attribute("style", "background-color:\(colour)") + "></span>"
            html += HTMLText.escape(state) + " <span class=\"legend-count\"></span></li>"
        }
        return html + "<li class=\"legend-note\"><span class=\"swatch\"><span class=\"mark\">s</span></span>Skipped/Superseded "
            + "(a newer model already served)</li></ul>"
    }

    private var runsByWindow: [Int64: [HistorySnapshot.Run]] { Dictionary(grouping: snapshot.runs, by: \.windowID) }

    private func rows() -> [Row] {
        var rows: [Row] = []
        for (dataset, slices) in Dictionary(grouping: snapshot.slices, by: \.dataset).sorted(by: { $0.key < $1.key }) {
            rows.append(Row(label: "dataset \(dataset)", kind: "slice", entries: slices.map { slice in
                var tooltip = "\(dataset) \(slice.slice.start.iso8601) – \(slice.slice.end.iso8601): \(slice.state)"
                tooltip += slice.substate.map { "/\($0)" } ?? ""
                tooltip += " · \(slice.checkCount) check\(slice.checkCount == 1 ? "" : "s")"
                if let message = slice.message { tooltip += " · \(message)" }
                return Entry(id: "s\(slice.id)", slice: slice.slice, state: slice.state, substate: slice.substate,
                             attributes: [("data-dataset", dataset)], tooltip: tooltip, details: details(slice))
            }))
        }
        let runs = runsByWindow
        let pipelines = Set(snapshot.windows.map(\.pipeline)).count
        // Activities in the order their windows were first recorded (the definitions' order).
        let activities = Dictionary(grouping: snapshot.windows) { "\($0.pipeline)\u{0}\($0.activity)" }
            .sorted { ($0.value[0].pipeline, $0.value.map(\.id).min()!) < ($1.value[0].pipeline, $1.value.map(\.id).min()!) }
        for (_, windows) in activities {
            let first = windows[0]
            rows.append(Row(label: pipelines > 1 ? "\(first.pipeline) / \(first.activity)" : first.activity, kind: "window",
                            entries: windows.map { window in
                let attempts = runs[window.id] ?? []
                var tooltip = "\(window.activity) \(window.window.start.iso8601) – \(window.window.end.iso8601): \(window.state)"
                tooltip += window.substate.map { "/\($0)" } ?? ""
                tooltip += " · \(attempts.count) attempt\(attempts.count == 1 ? "" : "s")"
                if let last = attempts.last {
                    tooltip += " · last: \(last.status)" + (last.externalJobID.map { " (job \($0))" } ?? "")
                    if let error = last.errorMessage { tooltip += " · \(error)" }
                }
                return Entry(id: "w\(window.id)", slice: window.window, state: window.state, substate: window.substate,
                             attributes: [("data-pipeline", window.pipeline), ("data-activity", window.activity)], tooltip: tooltip,
                             details: details(window, attempts: attempts))
            }))
        }
        return rows
    }

    /// The details panel's data for a slice cell.
    private func details(_ slice: HistorySnapshot.DataSlice) -> JSONText {
        .object([("kind", .string("slice")), ("title", .string("dataset \(slice.dataset) · \(slice.slice.start.iso8601)")),
                 ("state", .string(slice.state)), ("substate", .orNull(slice.substate)),
                 ("windowStart", .string(slice.slice.start.iso8601)), ("windowEnd", .string(slice.slice.end.iso8601)),
                 ("dataset", .string(slice.dataset)), ("checks", .int(Int64(slice.checkCount))), ("message", .orNull(slice.message)),
                 ("updatedAt", .orNull(slice.updatedAt?.iso8601)), ("landedAt", .orNull(slice.landedAt?.iso8601)), ("attempts", .array([]))])
    }

    /// The details panel's data for a window cell: the window and every attempt.
    private func details(_ window: HistorySnapshot.Window, attempts: [HistorySnapshot.Run]) -> JSONText {
        .object([("kind", .string("window")), ("title", .string("\(window.pipeline) / \(window.activity) · \(window.window.start.iso8601)")),
                 ("state", .string(window.state)), ("substate", .orNull(window.substate)),
                 ("windowStart", .string(window.window.start.iso8601)), ("windowEnd", .string(window.window.end.iso8601)),
                 ("pipeline", .string(window.pipeline)), ("activity", .string(window.activity)),
                 ("updatedAt", .orNull(window.updatedAt?.iso8601)),
                 ("attempts", .array(attempts.map { run in
                     .object([("attempt", .int(Int64(run.attempt))), ("trigger", .string(run.trigger)), ("status", .string(run.status)),
                              ("substatus", .orNull(run.substatus)), ("startedAt", .string(run.startedAt.iso8601)),
                              ("endedAt", .orNull(run.endedAt?.iso8601)), ("error", .orNull(run.errorMessage)),
                              ("errorClass", .orNull(run.errorClass)), ("jobId", .orNull(run.externalJobID)), ("runId", .string(run.runID))])
                 }))])
    }
}
