/// Which input slices an activity window needs: its *dependency period* (docs/SEMANTICS.md §2.5).
///
/// By default the dependency period is the window itself, so a daily window over an hourly
/// input needs the 24 hourly slices of that day, and an hourly window over a daily input needs
/// the one daily slice containing it. An input's `startTime` / `endTime` expressions move the
/// period; they are evaluated with `SliceStart = WindowStart = S` and `SliceEnd = WindowEnd = E`
/// for the window `[S, E)`. A missing `startTime` means `S`, a missing `endTime` means `E`.
/// The input slices are the input dataset's slices overlapping the period.
public enum DependencyResolver {
    /// The dependency period `[start, end)` of `input` for `window`, as the expressions give it
    /// (possibly empty or inverted; `inputSlices` decides what that means).
    public static func dependencyPeriod(for window: Slice, input: Activity.Input) throws(DependencyError) -> (start: Instant, end: Instant) {
        let context = ExpressionContext(window: window)
        func evaluate(_ text: String?, _ field: DependencyError.Field, default value: Instant) throws(DependencyError) -> Instant {
            guard let text else { return value }
            do {
                return try ADFExpression.parse(text).evaluateDateTime(context)
            } catch {
                throw DependencyError(input: input.name, field: field, error: error)
            }
        }
        let start = try evaluate(input.startTime, .startTime, default: window.start)
        let end = try evaluate(input.endTime, .endTime, default: window.end)
        return (start, end)
    }

    /// The slices of `dataset` that `window` depends on through `input`.
    ///
    /// **Refit decision:** when the expressions give an empty or inverted period
    /// (`end <= start` — ADF's own weekly sample `Date.AddDays(SliceStart, -Date.DayOfWeek(SliceStart))`
    /// … does this for most daily windows, §10.12), the window depends on the single input
    /// slice containing the period's start, rather than on nothing: a dependency that silently
    /// vanished would let windows run without their data.
    public static func inputSlices(for window: Slice, input: Activity.Input, dataset: Dataset) throws(DependencyError) -> SliceRange {
        let period = try dependencyPeriod(for: window, input: input)
        let schedule: SliceSchedule
        do { schedule = try SliceSchedule(dataset.availability) } catch {
            throw DependencyError(input: input.name, field: .availability, message: "dataset \(dataset.name): \(error)")
        }
        if period.end <= period.start {
            let k = schedule.index(containing: period.start)
            return SliceRange(schedule: schedule, indices: k...k)
        }
        return schedule.slices(overlapping: period.start, end: period.end)
    }

    /// Parses and type-checks an input's expressions without evaluating them, for the loader.
    /// Both must produce a DateTime.
    public static func check(_ input: Activity.Input) -> [DependencyError] {
        var errors: [DependencyError] = []
        for (text, field) in [(input.startTime, DependencyError.Field.startTime), (input.endTime, .endTime)] {
            guard let text else { continue }
            do {
                let expression = try ADFExpression.parse(text)
                if expression.resultType != .dateTime {
                    errors.append(DependencyError(input: input.name, field: field, error: ExpressionError(
                        column: expression.root.column, "\(field.rawValue) must give a DateTime, but this expression gives \(expression.resultType)")))
                }
            } catch {
                errors.append(DependencyError(input: input.name, field: field, error: error))
            }
        }
        return errors
    }
}

/// A dependency expression (or the input dataset's schedule) that cannot be used.
public struct DependencyError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Field: String, Hashable, Sendable { case startTime, endTime, availability }
    public var input: String
    public var field: Field
    /// 1-based column inside the expression text, when the problem is in an expression.
    public var column: Int?
    public var message: String

    init(input: String, field: Field, error: ExpressionError) {
        self.input = input; self.field = field; self.column = error.column; self.message = error.message
    }

    init(input: String, field: Field, message: String) {
        self.input = input; self.field = field; self.column = nil; self.message = message
    }

    public var description: String { "input \(input) \(field.rawValue): \(message)" }
}
