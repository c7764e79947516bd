import Foundation

/// An audit event to append: what happened, when, and to which pipeline/activity/window/run.
public struct NewAuditEvent: Sendable, Hashable {
    public var at: Date
    public var kind: String
    public var pipeline: String?
    public var activity: String?
    public var windowStart: Date?
    public var runID: String?
    /// A JSON document with the details; never secrets.
    public var detail: String

    public init(at: Date, kind: String, pipeline: String? = nil, activity: String? = nil,
                windowStart: Date? = nil, runID: String? = nil, detail: String = "{}")
    {
        self.at = at
        self.kind = kind
        self.pipeline = pipeline
        self.activity = activity
        self.windowStart = windowStart
        self.runID = runID
        self.detail = detail
    }
}
