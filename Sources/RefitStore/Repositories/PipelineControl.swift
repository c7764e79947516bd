import RefitCore

/// An operator's pause or resume of one pipeline, as recorded.
public struct PipelineControl: Hashable, Sendable {
    public var paused: Bool
    public var reason: String?
    public var actor: String?
    public var since: Instant

    public init(paused: Bool, reason: String?, actor: String?, since: Instant) {
        self.paused = paused; self.reason = reason; self.actor = actor; self.since = since
    }
}
