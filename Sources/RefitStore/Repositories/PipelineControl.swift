import RefitCore

/// An operator's pause or resume of one pipeline, as recorded.
public struct PipelineControl: Hashable, Sendable {
    public var paused: Bool
    public var reason: String?
    public var actor: String?
    public var since: Instant
}
