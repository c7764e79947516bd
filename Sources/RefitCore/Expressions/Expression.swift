/// A parsed and type-checked ADF v1 expression: a dependency expression such as
/// `Date.AddDays(SliceStart, -1)`, or the text after `$$` in a property value.
///
/// Grammar (whitespace between tokens is ignored):
///
/// ```
/// expression := '-' expression | primary
/// primary    := integer | string | Name | Name '(' [expression (',' expression)*] ')' | '(' expression ')'
/// Name       := identifier ('.' identifier)*          e.g. SliceStart, Date.AddDays
/// string     := "'" … "'"                             a backslash run before ' escapes it
/// ```
///
/// In a string literal, one or more backslashes followed by `'` stand for a single `'`: ADF
/// documents the escape as `\\'` inside JSON (which reaches Refit as `\'`), and a YAML author
/// may write `\\'` literally — both mean a quote. Other backslashes are kept as written.
///
/// Names, arities and argument types are checked when parsing, so a definition error is
/// reported when the file is loaded, with its column; only run-time facts (a date leaving the
/// years 1–9999, an unreadable `DateTime.From` string) fail during `evaluate`.
public struct Expression: Hashable, Sendable, CustomStringConvertible {
    /// A node of the syntax tree; `column` is 1-based in the parsed text.
    public indirect enum Node: Hashable, Sendable {
        case integer(Int64, column: Int)
        case string(String, column: Int)
        case variable(ExpressionVariable, column: Int)
        case negate(Node, column: Int)
        case call(ExpressionFunction, [Node], column: Int)

        public var column: Int {
            switch self {
            case .integer(_, let c), .string(_, let c), .variable(_, let c), .negate(_, let c), .call(_, _, let c): c
            }
        }
    }

    public let text: String
    public let root: Node
    public let resultType: ExpressionType

    public var description: String { text }

    /// Parses and type-checks `text`. `columnOffset` is added to every reported column (for
    /// a `$$` value, 2, so columns count from the value's first character).
    public static func parse(_ text: String, columnOffset: Int = 0) throws(ExpressionError) -> Expression {
        var parser = Parser(text: text, columnOffset: columnOffset)
        let root = try parser.parseExpression()
        let next = try parser.peek()
        guard case .end = next.kind else {
            throw ExpressionError(column: next.column, "unexpected \(next.kind.describe) after the end of the expression")
        }
        let type = try TypeChecker.check(root)
        return Expression(text: text, root: root, resultType: type)
    }

    /// Evaluates with the given system variables.
    public func evaluate(_ context: ExpressionContext) throws(ExpressionError) -> ExpressionValue {
        try Self.evaluate(root, context)
    }

    /// Evaluates an expression that must produce a DateTime (dependency `startTime`/`endTime`).
    public func evaluateDateTime(_ context: ExpressionContext) throws(ExpressionError) -> Instant {
        let value = try evaluate(context)
        guard case .dateTime(let instant) = value else {
            throw ExpressionError(column: root.column, "the expression gives \(value.type), but a DateTime is needed")
        }
        return instant
    }

    private static func evaluate(_ node: Node, _ context: ExpressionContext) throws(ExpressionError) -> ExpressionValue {
        switch node {
        case .integer(let value, _): return .integer(value)
        case .string(let value, _): return .string(value)
        case .variable(let variable, _): return .dateTime(context[variable])
        case .negate(let inner, let column):
            guard case .integer(let value) = try evaluate(inner, context) else {
                throw ExpressionError(column: column, "'-' applies only to integers")
            }
            guard value != .min else { throw ExpressionError(column: column, "the negated integer is too large") }
            return .integer(-value)
        case .call(let function, let arguments, let column):
            var values: [ExpressionValue] = []
            for argument in arguments { values.append(try evaluate(argument, context)) }
            do { return try function.apply(values) } catch {
                throw ExpressionError(column: column, error.message)
            }
        }
    }
}

// MARK: - Type checking

enum TypeChecker {
    static func check(_ node: Expression.Node) throws(ExpressionError) -> ExpressionType {
        switch node {
        case .integer: return .integer
        case .string: return .string
        case .variable: return .dateTime
        case .negate(let inner, let column):
            let type = try check(inner)
            guard type == .integer else { throw ExpressionError(column: column, "'-' applies only to integers, not to \(type)") }
            return .integer
        case .call(let function, let arguments, let column):
            let name = function.rawValue
            let expected = function.parameters
            if function.isVariadic {
                guard arguments.count >= expected.count else {
                    throw ExpressionError(column: column, "\(name) expects at least \(expected.count) argument\(expected.count == 1 ? "" : "s"), got \(arguments.count)")
                }
            } else if arguments.count != expected.count {
                throw ExpressionError(column: column, "\(name) expects \(expected.count) argument\(expected.count == 1 ? "" : "s"), got \(arguments.count)")
            }
            var types: [ExpressionType] = []
            for (position, argument) in arguments.enumerated() {
                let type = try check(argument)
                if position < expected.count, type != expected[position] {
                    throw ExpressionError(column: argument.column, "\(name) expects \(expected[position]) as argument \(position + 1), got \(type)")
                }
                types.append(type)
            }
            try checkLiterals(function, arguments, types)
            return function.resultType
        }
    }

    /// Checks literal arguments whose content can be known before run time.
    private static func checkLiterals(_ function: ExpressionFunction, _ arguments: [Expression.Node], _ types: [ExpressionType]) throws(ExpressionError) {
        guard case .string(let literal, let column) = arguments.first else { return }
        switch function {
        case .dateTimeFrom:
            guard DateTimeText.parse(literal) != nil else {
                throw ExpressionError(column: column, "DateTime.From cannot read '\(literal)' as a date and time")
            }
        case .textFormat:
            let items: [CompositeFormat.Item]
            do { items = try CompositeFormat.items(in: literal) } catch {
                throw ExpressionError(column: column, error.message)
            }
            let valueTypes = Array(types.dropFirst())
            for item in items {
                guard item.index < valueTypes.count else {
                    throw ExpressionError(column: column, CompositeFormat.argumentCountMessage(item.index, valueTypes.count))
                }
                guard let format = item.format else { continue }
                let sample: ExpressionValue = switch valueTypes[item.index] {
                case .dateTime: .dateTime(Instant.dotNetMin)
                case .integer: .integer(0)
                case .string: .string("")
                }
                do { _ = try CompositeFormat.render(sample, format) } catch {
                    throw ExpressionError(column: column, "Text.Format item {\(item.index)} has an invalid format: \(error.message)")
                }
            }
        default:
            break
        }
    }
}

// MARK: - Lexer and parser

struct Token {
    enum Kind {
        case name(String), integer(Int64), string(String), leftParen, rightParen, comma, minus, end

        var describe: String {
            switch self {
            case .name(let n): "'\(n)'"
            case .integer(let v): "'\(v)'"
            case .string: "string literal"
            case .leftParen: "'('"
            case .rightParen: "')'"
            case .comma: "','"
            case .minus: "'-'"
            case .end: "end of expression"
            }
        }
    }
    var kind: Kind
    var column: Int
}

struct Parser {
    let scalars: [Unicode.Scalar]
    let columnOffset: Int
    var position = 0
    var lookahead: Token?

    init(text: String, columnOffset: Int) {
        scalars = Array(text.unicodeScalars)
        self.columnOffset = columnOffset
    }

    mutating func peek() throws(ExpressionError) -> Token {
        if let lookahead { return lookahead }
        let token = try lex()
        lookahead = token
        return token
    }

    mutating func next() throws(ExpressionError) -> Token {
        let token = try peek()
        lookahead = nil
        return token
    }

    private func column(_ index: Int) -> Int { index + 1 + columnOffset }

    private static func isIdentifierStart(_ s: Unicode.Scalar) -> Bool {
        s == "_" || (s.isASCII && s.properties.isAlphabetic)
    }
    private static func isIdentifierPart(_ s: Unicode.Scalar) -> Bool {
        isIdentifierStart(s) || ("0"..."9").contains(s)
    }

    private mutating func lex() throws(ExpressionError) -> Token {
        while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
        guard position < scalars.count else { return Token(kind: .end, column: column(position)) }
        let start = position
        let s = scalars[position]
        switch s {
        case "(": position += 1; return Token(kind: .leftParen, column: column(start))
        case ")": position += 1; return Token(kind: .rightParen, column: column(start))
        case ",": position += 1; return Token(kind: .comma, column: column(start))
        case "-": position += 1; return Token(kind: .minus, column: column(start))
        case "'":
            position += 1
            var value = ""
            while position < scalars.count {
                let c = scalars[position]
                if c == "'" {
                    position += 1
                    return Token(kind: .string(value), column: column(start))
                }
                if c == "\\" {
                    var end = position
                    while end < scalars.count, scalars[end] == "\\" { end += 1 }
                    if end < scalars.count, scalars[end] == "'" {
                        value.unicodeScalars.append("'")
                        position = end + 1
                        continue
                    }
                    value.unicodeScalars.append(contentsOf: scalars[position..<end])
                    position = end
                    continue
                }
                value.unicodeScalars.append(c)
                position += 1
            }
            throw ExpressionError(column: column(start), "the string starting here is not closed with '")
        case "0"..."9":
            while position < scalars.count, ("0"..."9").contains(scalars[position]) { position += 1 }
            let digits = String(String.UnicodeScalarView(scalars[start..<position]))
            guard let value = Int64(digits) else {
                throw ExpressionError(column: column(start), "the integer \(digits) is too large")
            }
            if position < scalars.count, Self.isIdentifierStart(scalars[position]) {
                throw ExpressionError(column: column(position), "unexpected character '\(scalars[position])' after the integer \(digits)")
            }
            return Token(kind: .integer(value), column: column(start))
        default:
            guard Self.isIdentifierStart(s) else {
                throw ExpressionError(column: column(start), "unexpected character '\(s)'")
            }
            while true {
                while position < scalars.count, Self.isIdentifierPart(scalars[position]) { position += 1 }
                if position + 1 < scalars.count, scalars[position] == ".", Self.isIdentifierStart(scalars[position + 1]) {
                    position += 1
                    continue
                }
                break
            }
            return Token(kind: .name(String(String.UnicodeScalarView(scalars[start..<position]))), column: column(start))
        }
    }

    mutating func parseExpression() throws(ExpressionError) -> Expression.Node {
        let token = try next()
        switch token.kind {
        case .minus:
            let operand = try parseExpression()
            // Fold "-literal" into a negative literal.
            if case .integer(let value, _) = operand { return .integer(-value, column: token.column) }
            return .negate(operand, column: token.column)
        case .integer(let value):
            return .integer(value, column: token.column)
        case .string(let value):
            return .string(value, column: token.column)
        case .leftParen:
            let inner = try parseExpression()
            let close = try next()
            guard case .rightParen = close.kind else {
                throw ExpressionError(column: close.column, "expected ')' to close the '(' at column \(token.column), found \(close.kind.describe)")
            }
            return inner
        case .name(let name):
            guard case .leftParen = try peek().kind else {
                if let variable = ExpressionVariable(rawValue: name) { return .variable(variable, column: token.column) }
                if ExpressionFunction(rawValue: name) != nil {
                    throw ExpressionError(column: token.column, "\(name) is a function; call it with arguments in parentheses")
                }
                throw ExpressionError(column: token.column, "unknown variable \(name)" + Suggest.suffix(name, ExpressionVariable.allCases.map(\.rawValue)))
            }
            guard let function = ExpressionFunction(rawValue: name) else {
                if ExpressionVariable(rawValue: name) != nil {
                    throw ExpressionError(column: token.column, "\(name) is a variable, not a function")
                }
                throw ExpressionError(column: token.column, "unknown function \(name)" + Suggest.suffix(name, ExpressionFunction.allCases.map(\.rawValue)))
            }
            _ = try next()  // '('
            var arguments: [Expression.Node] = []
            if case .rightParen = try peek().kind {
                _ = try next()
                return .call(function, arguments, column: token.column)
            }
            while true {
                arguments.append(try parseExpression())
                let separator = try next()
                switch separator.kind {
                case .comma: continue
                case .rightParen: return .call(function, arguments, column: token.column)
                default:
                    throw ExpressionError(column: separator.column, "expected ',' or ')' after argument \(arguments.count) of \(name), found \(separator.kind.describe)")
                }
            }
        case .rightParen, .comma, .end:
            throw ExpressionError(column: token.column, "expected a value, found \(token.kind.describe)")
        }
    }
}

/// "did you mean …?" for misspelt names.
enum Suggest {
    static func suffix(_ name: String, _ candidates: [String]) -> String {
        let lower = name.lowercased()
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = candidate.lowercased() == lower ? 0 : editDistance(lower, candidate.lowercased()) + 1
            if distance < best?.distance ?? .max { best = (candidate, distance) }
        }
        guard let best, best.distance <= 3 else { return "" }
        return "; did you mean \(best.name)?"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
