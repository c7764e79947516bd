import RefitCore

/// Time texts of the report: ISO 8601 UTC with `Z` everywhere a time is given in full, short
/// forms only for grid column labels.
enum ReportTime {
    static func full(_ instant: Instant?) -> String { instant?.iso8601 ?? "—" }

    /// `MM-dd HH:mm`, or `HH:mm` when `sameDay`.
    static func short(_ instant: Instant, sameDay: Bool) -> String {
        let c = instant.components
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return sameDay ? "\(two(c.hour)):\(two(c.minute))" : "\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute))"
    }

    /// A duration in whole units: `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
    static func duration(seconds: Int64) -> String {
        if seconds < 0 { return "—" }
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" + (seconds % 60 == 0 ? "" : " \(seconds % 60) s") }
        if seconds < 86400 { return "\(seconds / 3600) h" + (seconds % 3600 / 60 == 0 ? "" : " \(seconds % 3600 / 60) min") }
        return "\(seconds / 86400) d" + (seconds % 86400 / 3600 == 0 ? "" : " \(seconds % 86400 / 3600) h")
    }
}
