import Foundation
import RefitCore

/// A line and scatter plot written as inline SVG: axes with round ticks, one `<circle
/// class="point">` per point (with a `<title>` tooltip) and, for connected series, a
/// `<polyline class="line">` through them in x order. Refit draws its own plots so the report
/// needs no script library or network (decision 17).
struct Plot {
    enum XScale {
        /// x is seconds since the epoch; ticks are round UTC times.
        case time
        case number
    }

    struct Point {
        var x: Double
        var y: Double
        var tooltip: String
        /// Extra attributes on the point's `<circle>` (test hooks such as `data-window-start`).
        var attributes: [(String, String)] = []
    }

    struct Series {
        var name: String
        var colour: String
        var points: [Point]
        var connected = true
    }

    var title: String
    var yLabel: String
    var series: [Series]
    var xScale: XScale = .time
    /// Whether the y axis starts at zero (durations, latencies) rather than at the data.
    var yFromZero = false
    /// Attributes on the `<svg>` (`data-metric`, …); it always has `class="plot"`.
    var attributes: [(String, String)] = []
    var width = 440.0
    var height = 230.0

    private let right = 20.0, bottom = 44.0
    /// Room above the frame for the title, and for the series key when there are several series.
    private var top: Double { series.count > 1 ? 48 : 34 }

    func render() -> String {
        let points = series.flatMap(\.points)
        var svg = "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""
        svg += " width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\""
        svg += HTMLText.attribute("aria-label", title)
        for (name, value) in attributes { svg += HTMLText.attribute(name, value) }
        svg += ">"
        svg += "<text class=\"plot-title\" x=\"60\" y=\"18\">\(HTMLText.escape(title))</text>"
        guard !points.isEmpty else {
            svg += "<text class=\"plot-empty\" x=\"60\" y=\"\(Int(height / 2))\">No points yet.</text></svg>"
            return svg
        }
        let (xMin, xMax) = Self.padded(points.map(\.x).min()!, points.map(\.x).max()!, minimumSpan: xScale == .time ? 60 : 1)
        var yLow = points.map(\.y).min()!, yHigh = points.map(\.y).max()!
        if yFromZero {
            yLow = min(0, yLow)
            if yHigh <= yLow { yHigh = yLow + 1 }
        }
        let yTicks = Self.niceTicks(yLow, yHigh)
        let (yMin, yMax) = (min(yTicks.first!, yLow), max(yTicks.last!, yHigh))
        let yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 0
        let yLabels = yTicks.map { Self.label($0, step: yStep) }
        // Room on the left for the longest tick label and the rotated axis label.
        let left = 30 + 6.5 * Double(yLabels.map(\.count).max() ?? 4)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - yMin) / (yMax - yMin) * plotHeight }

        // Axes, grid lines and tick labels.
        svg += "<g class=\"axes\">"
        for (tick, text) in zip(yTicks, yLabels) where tick >= yMin && tick <= yMax {
            let y = Self.coordinate(py(tick))
            svg += "<line class=\"grid\" x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - right)\" y2=\"\(y)\"/>"
            svg += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">"
            svg += "\(text)</text>"
        }
        let numberTicks = xScale == .time ? [] : Self.niceTicks(xMin, xMax)
        let xTicks = xScale == .time ? Self.timeTicks(xMin, xMax)
            : numberTicks.map { ($0, Self.label($0, step: numberTicks.count > 1 ? numberTicks[1] - numberTicks[0] : 0)) }
        for (tick, text) in xTicks where tick >= xMin && tick <= xMax {
            let x = Self.coordinate(px(tick))
            svg += "<line class=\"grid\" x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(top + plotHeight)\"/>"
            svg += "<text class=\"tick\" x=\"\(x)\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\">\(HTMLText.escape(text))</text>"
        }
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width - right)\" y2=\"\(top + plotHeight)\"/>"
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotHeight)\"/>"
        svg += "<text class=\"axis-label\" x=\"14\" y=\"\(Self.coordinate(top + plotHeight / 2))\" text-anchor=\"middle\""
        svg += " transform=\"rotate(-90 14 \(Self.coordinate(top + plotHeight / 2)))\">\(HTMLText.escape(yLabel))</text>"
        if xScale == .time {
            svg += "<text class=\"axis-label\" x=\"\(width - right)\" y=\"\(height - 6)\" text-anchor=\"end\">UTC</text>"
        }
        svg += "</g>"

        // Series legend (when there is more than one), lines, then points on top.
        if series.count > 1 {
            var x = left + 8
            for item in series {
                svg += "<g class=\"series-key\"><rect x=\"\(Self.coordinate(x))\" y=\"\(top - 20)\" width=\"10\" height=\"10\""
                svg += HTMLText.attribute("fill", item.colour) + "/>"
                svg += "<text class=\"tick\" x=\"\(Self.coordinate(x + 14))\" y=\"\(top - 11)\">\(HTMLText.escape(item.name))</text></g>"
                x += 24 + Double(item.name.count) * 6.5
            }
        }
        for item in series {
            svg += "<g class=\"series\"" + HTMLText.attribute("data-series", item.name) + ">"
            let ordered = item.points.sorted { $0.x < $1.x }
            if item.connected, ordered.count > 1 {
                let path = ordered.map { "\(Self.coordinate(px($0.x))),\(Self.coordinate(py($0.y)))" }.joined(separator: " ")
                svg += "<polyline class=\"line\" fill=\"none\"" + HTMLText.attribute("stroke", item.colour) + " points=\"\(path)\"/>"
            }
            for point in ordered {
                svg += "<circle class=\"point\" cx=\"\(Self.coordinate(px(point.x)))\" cy=\"\(Self.coordinate(py(point.y)))\" r=\"3.5\""
                svg += HTMLText.attribute("fill", item.colour) + HTMLText.attribute("data-value", "\(point.y)")
                for (name, value) in point.attributes { svg += HTMLText.attribute(name, value) }
                svg += "><title>\(HTMLText.escape(point.tooltip))</title></circle>"
            }
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    // MARK: Scales

    /// The range widened to at least `minimumSpan` and by 3% each side, so points sit inside the frame.
    static func padded(_ low: Double, _ high: Double, minimumSpan: Double) -> (Double, Double) {
        var (low, high) = (low, high)
        if high - low < minimumSpan {
            let middle = (low + high) / 2
            (low, high) = (middle - minimumSpan / 2, middle + minimumSpan / 2)
        }
        let pad = (high - low) * 0.03
        return (low - pad, high + pad)
    }

    /// About five round ticks (1, 2 or 5 × 10ⁿ apart) covering `[low, high]`.
    static func niceTicks(_ low: Double, _ high: Double) -> [Double] {
        var (low, high) = (low, high)
        if high - low < 1e-12 {
            let pad = abs(low) > 1e-9 ? abs(low) * 0.1 : 1
            (low, high) = (low - pad, high + pad)
        }
        let rough = (high - low) / 5
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let first = floor(low / step) * step, last = ceil(high / step) * step
        var ticks: [Double] = []
        var tick = first
        while tick <= last + step / 2, ticks.count < 50 {
            ticks.append(abs(tick) < step / 1e6 ? 0 : tick)
            tick += step
        }
        return ticks
    }

    /// Round UTC times (seconds, minutes, hours, days) about six apart across `[low, high]`, labelled.
    static func timeTicks(_ low: Double, _ high: Double) -> [(Double, String)] {
        let steps: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
                               86400, 172_800, 604_800, 1_209_600, 2_592_000, 7_776_000, 31_536_000]
        let step = steps.first { (high - low) / $0 <= 7 } ?? 31_536_000
        let span = high - low
        var ticks: [(Double, String)] = []
        var tick = ceil(low / step) * step
        while tick <= high, ticks.count < 20 {
            let c = Instant(secondsSinceEpoch: Int64(tick)).components
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            let text: String
            if step < 60 {
                text = "\(two(c.hour)):\(two(c.minute)):\(two(c.second))"
            } else if step < 86400 {
                text = span > 86400 ? "\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute))" : "\(two(c.hour)):\(two(c.minute))"
            } else {
                text = "\(c.year)-\(two(c.month))-\(two(c.day))"
            }
            ticks.append((tick, text))
            tick += step
        }
        return ticks
    }

    /// A coordinate with one decimal.
    static func coordinate(_ value: Double) -> String { String(format: "%.1f", value) }

    /// A tick label with as many decimals as the ticks' spacing needs (0.99995 next to 1.00000,
    /// not two ticks both reading 1).
    static func label(_ value: Double, step: Double) -> String {
        guard step > 0, step.isFinite else { return String(format: "%.4g", value) }
        if abs(value) >= 1e7 || step < 1e-9 { return String(format: "%.4g", value) }
        let decimals = max(0, Int(-floor(log10(step))))
        return String(format: "%.\(min(decimals, 9))f", value)
    }
}
