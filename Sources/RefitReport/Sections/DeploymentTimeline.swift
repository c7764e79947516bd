import RefitCore

/// The deployment timeline, one per endpoint: which model (the window it was trained on) served
/// from when to when, rollbacks and other forced deployments marked, and the update windows
/// that were superseded (ended Skipped/Superseded because a newer model already served, D14).
///
/// DOM hooks: `svg.timeline[data-endpoint]` holding `rect.deployment` (`data-deployment-id`,
/// `data-window-start`, `data-reason`, `data-serving`, `data-rollback`) and `rect.superseded`
/// (`data-window-start`); `table.deployments` rows `tr.deployment`.
struct DeploymentTimeline {
    let snapshot: HistorySnapshot
    let generatedAt: Instant

    func render() -> String {
        var html = "<section id=\"deployments\"><h2>Deployment timeline</h2>"
        let byEndpoint = Dictionary(grouping: snapshot.deployments) { HTMLText.withoutQuery($0.endpoint) }
        guard !byEndpoint.isEmpty else {
            return html + "<p class=\"nothing\">No model was deployed in this range.</p></section>"
        }
        html += "<p class=\"hint\">Each bar is one deployment: the model trained on that window served from its deployment until "
        html += "the next one. Purple bars are rollbacks, orange ones other forced deployments; diamonds are update windows "
        html += "superseded (never deployed, because a model of a newer window already served).</p>"
        let runsByWindow = Dictionary(grouping: snapshot.runs, by: \.windowID)
        for (endpoint, deployments) in byEndpoint.sorted(by: { $0.key < $1.key }) {
            let ordered = deployments.sorted { $0.id < $1.id }
            let activities = Set(ordered.map { "\($0.pipeline)\u{0}\($0.activity)" })
            let superseded = snapshot.windows.filter {
                $0.substate == "Superseded" && activities.contains("\($0.pipeline)\u{0}\($0.activity)")
            }.map { window -> (window: HistorySnapshot.Window, at: Instant) in
                (window, runsByWindow[window.id]?.compactMap(\.endedAt).max() ?? window.updatedAt ?? window.window.end)
            }
            html += "<h3>Endpoint <code>\(HTMLText.escape(endpoint))</code></h3>"
            html += svg(endpoint: endpoint, ordered, superseded: superseded)
            html += table(ordered, superseded: superseded)
        }
        return html + "</section>"
    }

    private func svg(endpoint: String, _ deployments: [HistorySnapshot.Deployment],
                     superseded: [(window: HistorySnapshot.Window, at: Instant)]) -> String {
        let lanes = Double(deployments.count)
        let supersededLane = superseded.isEmpty ? 0.0 : 16
        // 16 px a lane up to 100 lanes; beyond, the chart stays about 1,600 px tall and only every
        // few lanes is labelled (a year of hourly deployments is 8,760 lanes).
        let lane = lanes <= 100 ? 16.0 : 1600 / lanes
        let labelEvery = max(1, Int((12 / lane).rounded(.up)))
        let left = 120.0, right = 20.0, top = 10.0, width = 900.0
        let height = top + lanes * lane + supersededLane + 34
        let times = deployments.map(\.deployedAt.secondsSinceEpoch) + superseded.map(\.at.secondsSinceEpoch)
        let first = Double(times.min()!), last = Double(times.max()!)
        let span = max(last - first, 60)
        let (xMin, xMax) = (first - span * 0.02, last + span * 0.1)
        func px(_ t: Double) -> Double { left + (t - xMin) / (xMax - xMin) * (width - left - right) }
        var svg = "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\""
        svg += " viewBox=\"0 0 \(Int(width)) \(Int(height))\"" + HTMLText.attribute("data-endpoint", endpoint) + ">"
        let bottom = top + lanes * lane + supersededLane
        for (tick, text) in Plot.timeTicks(xMin, xMax) where px(tick) <= width - right - 24 {
            let x = Plot.coordinate(px(tick))
            svg += "<line class=\"grid\" x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(bottom)\"/>"
            svg += "<text class=\"tick\" x=\"\(x)\" y=\"\(bottom + 16)\" text-anchor=\"middle\">\(HTMLText.escape(text))</text>"
        }
        svg += "<text class=\"axis-label\" x=\"\(width - right)\" y=\"\(height - 4)\" text-anchor=\"end\">deployed at (UTC)</text>"
        for (index, deployment) in deployments.enumerated() {
            let y = top + Double(index) * lane
            let next = index + 1 < deployments.count ? Double(deployments[index + 1].deployedAt.secondsSinceEpoch) : xMax
            let x0 = px(Double(deployment.deployedAt.secondsSinceEpoch)), x1 = max(px(next), x0 + 2)
            let serving = index == deployments.count - 1
            let colour = deployment.isRollback ? "#8e24aa" : deployment.forced ? "#fb8c00" : "#1e88e5"
            if index % labelEvery == 0 || serving {
                svg += "<text class=\"lane-label\" x=\"\(left - 6)\" y=\"\(Plot.coordinate(y + lane / 2))\" text-anchor=\"end\""
                svg += " dominant-baseline=\"middle\">\(HTMLText.escape(ReportTime.short(deployment.modelWindowStart, sameDay: false)))</text>"
            }
            let gap = lane >= 8 ? 2.0 : 0
            svg += "<rect class=\"deployment\" x=\"\(Plot.coordinate(x0))\" y=\"\(Plot.coordinate(y + gap))\""
            svg += " width=\"\(Plot.coordinate(x1 - x0))\" height=\"\(Plot.coordinate(max(1, lane - 2 * gap)))\"" + HTMLText.attribute("fill", colour)
            svg += HTMLText.attribute("data-deployment-id", String(deployment.id))
            svg += HTMLText.attribute("data-window-start", deployment.modelWindowStart.iso8601)
            svg += HTMLText.attribute("data-reason", deployment.reason) + HTMLText.attribute("data-serving", serving ? "true" : "false")
            svg += HTMLText.attribute("data-rollback", deployment.isRollback ? "true" : "false") + ">"
            let until = serving ? "now (serving)" : deployments[index + 1].deployedAt.iso8601
            svg += "<title>\(HTMLText.escape("model of \(deployment.modelWindowStart.iso8601) served from \(deployment.deployedAt.iso8601) until \(until) (\(deployment.reason)\(deployment.forced ? ", forced" : ""))"))</title></rect>"
        }
        if !superseded.isEmpty {
            let y = top + Double(deployments.count) * lane
            svg += "<text class=\"lane-label\" x=\"\(left - 6)\" y=\"\(Plot.coordinate(y + supersededLane / 2))\" text-anchor=\"end\""
            svg += " dominant-baseline=\"middle\">superseded</text>"
            for item in superseded {
                let x = px(Double(item.at.secondsSinceEpoch)), cy = y + supersededLane / 2
                svg += "<rect class=\"superseded\" x=\"\(Plot.coordinate(x - 4))\" y=\"\(Plot.coordinate(cy - 4))\" width=\"8\" height=\"8\""
                svg += " fill=\"#f9a825\" transform=\"rotate(45 \(Plot.coordinate(x)) \(Plot.coordinate(cy)))\""
                svg += HTMLText.attribute("data-window-start", item.window.window.start.iso8601) + ">"
                svg += "<title>\(HTMLText.escape("window \(item.window.window.start.iso8601) superseded at \(item.at.iso8601)"))</title></rect>"
            }
        }
        return svg + "</svg>"
    }

    private func table(_ deployments: [HistorySnapshot.Deployment], superseded: [(window: HistorySnapshot.Window, at: Instant)]) -> String {
        var html = "<details><summary>\(deployments.count) deployment\(deployments.count == 1 ? "" : "s")"
        html += superseded.isEmpty ? "" : " and \(superseded.count) superseded window\(superseded.count == 1 ? "" : "s")"
        html += " as a table</summary><table class=\"list deployments\"><thead><tr><th>model window</th><th>served from</th><th>until</th>"
        html += "<th>for</th><th>reason</th><th>marks</th><th>update run</th><th>model</th></tr></thead><tbody>"
        for (index, deployment) in deployments.enumerated() {
            let next = index + 1 < deployments.count ? deployments[index + 1].deployedAt : nil
            var marks: [String] = []
            if deployment.isRollback { marks.append("rollback") } else if deployment.forced { marks.append("forced") }
            if next == nil { marks.append("serving") }
            html += "<tr class=\"deployment\"" + HTMLText.attribute("data-window-start", deployment.modelWindowStart.iso8601)
            html += (deployment.isRollback ? " data-rollback=\"true\"" : "") + ">"
            html += "<td>\(deployment.modelWindowStart.iso8601)</td><td>\(deployment.deployedAt.iso8601)</td>"
            html += "<td>\(next?.iso8601 ?? "now")</td>"
            html += "<td>\(HTMLText.escape(ReportTime.duration(seconds: (next ?? generatedAt).secondsSinceEpoch - deployment.deployedAt.secondsSinceEpoch)))</td>"
            html += "<td>\(HTMLText.escape(deployment.reason))</td><td>\(HTMLText.escape(marks.joined(separator: ", ")))</td>"
            html += "<td><code>\(HTMLText.escape(deployment.runID))</code></td>"
            html += "<td><code>\(HTMLText.escape(HTMLText.withoutQuery(deployment.modelLocation)))</code></td></tr>"
        }
        for item in superseded.sorted(by: { $0.window.window.start < $1.window.window.start }) {
            html += "<tr class=\"superseded\"" + HTMLText.attribute("data-window-start", item.window.window.start.iso8601) + ">"
            html += "<td>\(item.window.window.start.iso8601)</td><td colspan=\"4\">superseded at \(item.at.iso8601): never deployed, "
            html += "a model of a newer window already served</td><td>superseded</td><td></td><td></td></tr>"
        }
        return html + "</tbody></table></details>"
    }
}
