/// A non-secret string of a definition — an endpoint URL — written inline or, as a Refit
/// extension, taken from the environment with `{"env": "NAME"}`, so one set of definitions can
/// point at any deployment (for example an emulator listening on a free port).
public struct Setting: Hashable, Sendable, CustomStringConvertible {
    public enum Source: Hashable, Sendable {
        case literal(String)
        case environment(String)
    }

    public var source: Source

    public init(_ source: Source) { self.source = source }
    public static func literal(_ value: String) -> Setting { Setting(.literal(value)) }

    /// The value when written inline; nil when it comes from the environment.
    public var literalValue: String? {
        if case .literal(let value) = source { return value }
        return nil
    }

    /// The value, from the given environment when it is a reference; nil when the variable is unset or empty.
    public func resolve(environment: [String: String]) -> String? {
        switch source {
        case .literal(let value): return value
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
    }

    /// The literal value, or `$NAME` for a reference.
    public var description: String {
        switch source {
        case .literal(let value): return value
        case .environment(let name): return "$" + name
        }
    }
}
