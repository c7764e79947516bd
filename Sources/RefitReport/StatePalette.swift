/// The colour of each window and slice state in the grid and its legend. The states are the
/// store's (`windows.state`, `slices.state`); a state this build does not know still gets a
/// colour of its own, so a newer database never renders as a blank grid.
enum StatePalette {
    /// The states the store records, in the legend's order, with their colours.
    static let known: [(state: String, colour: String)] = [
        ("Ready", "#2e7d32"),
        ("InProgress", "#1e88e5"),
        ("Waiting", "#b0bec5"),
        ("Failed", "#d32f2f"),
        ("Skipped", "#f9a825"),
        ("None", "#795548"),
    ]

    private static let spare = ["#8e24aa", "#00897b", "#5d4037", "#c2185b", "#3949ab", "#7cb342"]

    static func colour(_ state: String) -> String {
        if let entry = known.first(where: { $0.state == state }) { return entry.colour }
        let sum = state.unicodeScalars.reduce(0) { $0 &+ Int($1.value) }
        return spare[sum % spare.count]
    }

    /// Legend entries: every known state, then any other state present in `states`.
    static func legend(present states: Set<String>) -> [(state: String, colour: String)] {
        known + states.subtracting(known.map(\.state)).sorted().map { ($0, colour($0)) }
    }

    /// Colours of plot series, in order.
    static let series = ["#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa", "#00acc1", "#6d4c41", "#3949ab"]
}
