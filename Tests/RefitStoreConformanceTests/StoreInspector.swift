import RefitCore

/// What a conformance test needs from a store besides `SchedulingStore`: the operator's pause
/// switch (the protocol only reads it) and read access to run history, slices and audit events,
/// which each implementation exposes its own way.
protocol StoreInspector: Sendable {
    /// Pauses or resumes a pipeline as `refit pause` / `refit resume` would.
    func setPaused(_ pipeline: String, _ paused: Bool, now: Instant) throws
    /// Every attempt, in claim order.
    func runs() throws -> [RunSnapshot]
    /// The attempts of one window, in claim order.
    func runs(windowID: Int64) throws -> [RunSnapshot]
    func run(id: String) throws -> RunSnapshot?
    /// External slices of the datasets, oldest first.
    func slices(datasets: [String]) throws -> [SliceRecord]
    /// The kinds of the audit events naming a run, oldest first.
    func eventKinds(runID: String) throws -> [String]
}
