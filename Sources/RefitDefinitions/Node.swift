import RefitCore

/// A parsed definition document that remembers where every value was written, so validation can
/// point at the offending value (`file:line:column`) whether the file was JSON or YAML.
public struct Node: Hashable, Sendable {
    /// One `"key": value` pair of an object, in file order.
    public struct Member: Hashable, Sendable {
        public var key: String
        public var keyPosition: SourcePosition
        public var value: Node
        public init(key: String, keyPosition: SourcePosition, value: Node) {
            self.key = key; self.keyPosition = keyPosition; self.value = value
        }
    }

    public enum Value: Hashable, Sendable {
        /// Members in file order; keys are unique (readers report duplicates and keep the first).
        case object([Member])
        case array([Node])
        case string(String)
        /// The literal text as written (`15`, `10.0`, `1e3`), so no precision is lost.
        case number(String)
        case bool(Bool)
        case null
    }

    /// Where a string's characters start and how they map to source columns, so a message can
    /// point at a `{Token}` inside a path rather than at the whole string.
    public struct TextLayout: Hashable, Sendable {
        /// Position of the first character of the content (after an opening quote).
        public var start: SourcePosition
        /// Column of each Unicode scalar of the content, when escapes make them non-contiguous;
        /// nil when scalar `i` sits at `start.column + i` on `start.line`.
        public var columns: [Int]?
        public init(start: SourcePosition, columns: [Int]? = nil) { self.start = start; self.columns = columns }
    }

    public var value: Value
    /// Where the value starts: the opening quote, bracket or brace, or the first character.
    public var position: SourcePosition
    /// Strings only; see `position(ofScalarOffset:)`.
    public var textLayout: TextLayout?

    public init(_ value: Value, at position: SourcePosition, textLayout: TextLayout? = nil) {
        self.value = value; self.position = position; self.textLayout = textLayout
    }

    // MARK: Accessors

    /// The members of an object, or nil.
    public var members: [Member]? {
        if case .object(let m) = value { return m }
        return nil
    }

    /// The elements of an array, or nil.
    public var elements: [Node]? {
        if case .array(let e) = value { return e }
        return nil
    }

    public var string: String? {
        if case .string(let s) = value { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = value { return b }
        return nil
    }

    /// The literal text of a number, or nil.
    public var numberText: String? {
        if case .number(let n) = value { return n }
        return nil
    }

    public var isNull: Bool { value == .null }

    /// The member named `key` of an object (exact, case-sensitive match).
    public func member(_ key: String) -> Member? { members?.first { $0.key == key } }

    /// The value of the member named `key`, or nil (also nil when this is not an object).
    public subscript(key: String) -> Node? { member(key)?.value }

    /// A short name of the value's JSON type for messages: "a string", "an object", ...
    public var kindDescription: String {
        switch value {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// Where the `offset`-th Unicode scalar of a string's content was written; the value's own
    /// position for non-strings or offsets beyond the layout.
    public func position(ofScalarOffset offset: Int) -> SourcePosition {
        guard let layout = textLayout, offset >= 0 else { return position }
        if let columns = layout.columns {
            guard offset < columns.count else { return position }
            return SourcePosition(file: layout.start.file, line: layout.start.line, column: columns[offset])
        }
        return SourcePosition(file: layout.start.file, line: layout.start.line, column: layout.start.column + offset)
    }
}
