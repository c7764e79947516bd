/// Where a value was written in a definition file, for `file:line:column` messages.
public struct SourcePosition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var file: String
    /// 1-based.
    public var line: Int
    /// 1-based, counted in Unicode scalars.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One problem found in the definitions. Errors fail validation; warnings do not.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public var severity: Severity
    public var position: SourcePosition
    public var message: String

    public init(_ severity: Severity, at position: SourcePosition, _ message: String) {
        self.severity = severity
        self.position = position
        self.message = message
    }

    public static func error(_ position: SourcePosition, _ message: String) -> Diagnostic { .init(.error, at: position, message) }
    public static func warning(_ position: SourcePosition, _ message: String) -> Diagnostic { .init(.warning, at: position, message) }

    /// `file:line:column: error: message`, the form compilers use so editors can jump to it.
    public var description: String { "\(position): \(severity.rawValue): \(message)" }
}
