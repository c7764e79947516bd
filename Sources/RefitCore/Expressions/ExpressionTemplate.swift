/// Property values that may hold a `$$` function call, such as `globalParameters`:
/// `"$$Text.Format('… \\'{0:yyyy-MM-dd HH:mm:ss}\\'', Time.AddHours(WindowStart, 0))"`.
///
/// Rule: a value whose first two characters are `$$` is **one** expression — everything after
/// the `$$` (trailing whitespace allowed) — and the value becomes its result as text
/// (`ExpressionValue.text`). Any other value is literal and returned unchanged, even if it
/// contains `$$` further on: ADF evaluates only values that start with `$$`, and expanding
/// embedded occurrences would corrupt literal text such as passwords or shell `$$`.
public enum ExpressionTemplate {
    public static func isExpression(_ value: String) -> Bool { value.hasPrefix("$$") }

    /// The expression of a `$$` value (columns count from the value's first character), or nil
    /// for a literal value. Lets the loader report errors when the definitions are read.
    public static func parse(_ value: String) throws(ExpressionError) -> Expression? {
        guard isExpression(value) else { return nil }
        let body = String(value.unicodeScalars.dropFirst(2))
        guard body.contains(where: { !$0.isWhitespace }) else {
            throw ExpressionError(column: 3, "'$$' must be followed by an expression")
        }
        return try Expression.parse(body, columnOffset: 2)
    }

    /// The value with its expression (if any) evaluated in `context`.
    public static func expand(_ value: String, in context: ExpressionContext) throws(ExpressionError) -> String {
        guard let expression = try parse(value) else { return value }
        return try expression.evaluate(context).text
    }
}
