/// A credential in a definition. Its value never appears in `description`, logs, errors or the
/// database: only where it comes from.
public struct Secret: Hashable, Sendable, CustomStringConvertible {
    public enum Source: Hashable, Sendable {
        /// Written inline in the definition (allowed, with a warning).
        case literal(String)
        /// `{"env": "NAME"}`
        case environment(String)
        /// `{"file": "PATH"}`, relative paths resolved against the schedules folder.
        case file(String)
    }

    public var source: Source

    public init(_ source: Source) { self.source = source }

    public var description: String {
        switch source {
        case .literal: return "<literal secret>"
        case .environment(let name): return "<secret from env \(name)>"
        case .file(let path): return "<secret from file \(path)>"
        }
    }
}
