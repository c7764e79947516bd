/// The metrics server could not listen (address in use, not local, not permitted); `message` is
/// one sentence for the operator.
public struct MetricsServerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
