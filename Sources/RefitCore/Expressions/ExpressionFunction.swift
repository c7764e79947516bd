/// ADF v1's function catalog [FN1] (docs/SEMANTICS.md §2.4). There is no `Date.Format`; dates are
/// formatted with `Text.Format('{0:fmt}', …)`.
public enum ExpressionFunction: String, Hashable, Sendable, CaseIterable {
    case timeAddHours = "Time.AddHours"
    case timeAddMinutes = "Time.AddMinutes"
    case timeStartOfHour = "Time.StartOfHour"
    case dateAddDays = "Date.AddDays"
    case dateAddMonths = "Date.AddMonths"
    case dateAddQuarters = "Date.AddQuarters"
    case dateAddWeeks = "Date.AddWeeks"
    case dateAddYears = "Date.AddYears"
    case dateDay = "Date.Day"
    case dateDayOfWeek = "Date.DayOfWeek"
    case dateDayOfYear = "Date.DayOfYear"
    case dateDaysInMonth = "Date.DaysInMonth"
    case dateEndOfDay = "Date.EndOfDay"
    case dateEndOfMonth = "Date.EndOfMonth"
    case dateStartOfDay = "Date.StartOfDay"
    case dateTimeFrom = "DateTime.From"
    case dateTimeTicks = "DateTime.Ticks"
    case textFormat = "Text.Format"

    /// Parameter types. `Text.Format` takes its format string followed by any number of values
    /// of any type (see `isVariadic`).
    public var parameters: [ExpressionType] {
        switch self {
        case .timeAddHours, .timeAddMinutes, .dateAddDays, .dateAddMonths, .dateAddQuarters, .dateAddWeeks, .dateAddYears:
            [.dateTime, .integer]
        case .timeStartOfHour, .dateDay, .dateDayOfWeek, .dateDayOfYear, .dateDaysInMonth, .dateEndOfDay,
             .dateEndOfMonth, .dateStartOfDay, .dateTimeTicks:
            [.dateTime]
        case .dateTimeFrom, .textFormat:
            [.string]
        }
    }

    public var isVariadic: Bool { self == .textFormat }

    public var resultType: ExpressionType {
        switch self {
        case .dateDay, .dateDayOfWeek, .dateDayOfYear, .dateDaysInMonth, .dateTimeTicks: .integer
        case .textFormat: .string
        default: .dateTime
        }
    }

    /// Evaluates the function on already-checked arguments. Errors have no column; the caller
    /// adds the call's.
    func apply(_ args: [ExpressionValue]) throws(FunctionFailure) -> ExpressionValue {
        switch self {
        case .textFormat:
            guard case .string(let format) = args[0] else { throw FunctionFailure("Text.Format expects a string as argument 1") }
            do {
                return .string(try CompositeFormat.format(format, Array(args.dropFirst())))
            } catch {
                throw FunctionFailure(error.message)
            }
        case .dateTimeFrom:
            guard case .string(let text) = args[0] else { throw FunctionFailure("DateTime.From expects a string") }
            guard let instant = DateTimeText.parse(text) else {
                throw FunctionFailure("DateTime.From cannot read '\(text)' as a date and time")
            }
            return .dateTime(instant)
        default:
            break
        }
        guard case .dateTime(let x) = args[0] else { throw FunctionFailure("\(rawValue) expects a DateTime as argument 1") }
        var y: Int64 = 0
        if args.count > 1 {
            guard case .integer(let value) = args[1] else { throw FunctionFailure("\(rawValue) expects an integer as argument 2") }
            y = value
        }
        let c = x.components
        switch self {
        case .timeAddHours: return try adding(x, seconds: y, times: 3600)
        case .timeAddMinutes: return try adding(x, seconds: y, times: 60)
        case .dateAddDays: return try adding(x, seconds: y, times: 86_400)
        case .dateAddWeeks: return try adding(x, seconds: y, times: 7 * 86_400)
        case .dateAddMonths: return try addingMonths(x, y, times: 1)
        case .dateAddQuarters: return try addingMonths(x, y, times: 3)
        case .dateAddYears: return try addingMonths(x, y, times: 12)
        case .timeStartOfHour:
            return .dateTime(Instant(secondsSinceEpoch: Instant.floorDiv(x.secondsSinceEpoch, 3600) * 3600))
        case .dateStartOfDay: return .dateTime(x.startOfDay)
        case .dateEndOfDay:
            // .NET gives 23:59:59.9999999; Refit's resolution is one second.
            return .dateTime(x.startOfDay + TimeSpan(seconds: 86_399))
        case .dateEndOfMonth:
            let first = Instant(year: c.year, month: c.month, day: 1)
            return .dateTime(Instant(secondsSinceEpoch: first.addingMonths(1).secondsSinceEpoch - 1))
        case .dateDay: return .integer(Int64(c.day))
        case .dateDayOfWeek: return .integer(Int64(c.weekday))
        case .dateDayOfYear:
            return .integer(x.dayNumber - Instant(year: c.year, month: 1, day: 1).dayNumber + 1)
        case .dateDaysInMonth: return .integer(Instant.daysInMonth(year: Int64(c.year), month: Int64(c.month)))
        case .dateTimeTicks:
            // 100 ns ticks since 0001-01-01; year 9999 is about 3.2e18, inside Int64.
            return .integer((x.secondsSinceEpoch - Instant.dotNetMin.secondsSinceEpoch) * 10_000_000)
        case .textFormat, .dateTimeFrom:
            throw FunctionFailure("\(rawValue) was called with the wrong arguments")
        }
    }

    private func adding(_ x: Instant, seconds y: Int64, times unit: Int64) throws(FunctionFailure) -> ExpressionValue {
        let (delta, overflow1) = y.multipliedReportingOverflow(by: unit)
        let (result, overflow2) = x.secondsSinceEpoch.addingReportingOverflow(delta)
        guard !overflow1, !overflow2 else { throw outOfRange() }
        return try checked(Instant(secondsSinceEpoch: result))
    }

    private func addingMonths(_ x: Instant, _ y: Int64, times: Int64) throws(FunctionFailure) -> ExpressionValue {
        // Anything beyond 10,000 years leaves .NET's DateTime range anyway.
        guard abs(y) <= 120_000 / times else { throw outOfRange() }
        return try checked(x.addingMonths(y * times))
    }

    private func checked(_ instant: Instant) throws(FunctionFailure) -> ExpressionValue {
        guard DateTimeText.dotNetRange.contains(instant) else { throw outOfRange() }
        return .dateTime(instant)
    }

    private func outOfRange() -> FunctionFailure {
        FunctionFailure("\(rawValue) gives a date outside the years 1 to 9999")
    }
}

/// A function that failed at evaluation time; the evaluator attaches the column.
struct FunctionFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Reading `DateTime.From`'s argument.
enum DateTimeText {
    /// .NET `DateTime`'s range: 0001-01-01 up to (not including) 10000-01-01.
    static let dotNetRange = Instant.dotNetMin..<Instant(year: 10_000, month: 1, day: 1)

    /// ISO 8601 forms (`Instant.parse`) and the invariant culture's `M/d/yyyy[ H:mm[:ss][ AM|PM]]`.
    static func parse(_ text: String) -> Instant? {
        if let instant = Instant.parse(text) { return instant }
        let parts = text.trimmingCharacters().split(separator: " ", omittingEmptySubsequences: true)
        guard (1...3).contains(parts.count) else { return nil }
        let date = parts[0].split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard date.count == 3, let month = date[0], let day = date[1], let year = date[2],
              (1...12).contains(month), (1...9999).contains(year), day >= 1,
              Int64(day) <= Instant.daysInMonth(year: Int64(year), month: Int64(month)) else { return nil }
        var hour = 0, minute = 0, second = 0
        if parts.count >= 2 {
            let time = parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
            guard (2...3).contains(time.count), let h = time[0], let m = time[1] else { return nil }
            hour = h; minute = m
            if time.count == 3 {
                guard let s = time[2] else { return nil }
                second = s
            }
            guard (0...59).contains(minute), (0...59).contains(second) else { return nil }
            if parts.count == 3 {
                let designator = parts[2].uppercased()
                guard designator == "AM" || designator == "PM", (1...12).contains(hour) else { return nil }
                hour = hour % 12 + (designator == "PM" ? 12 : 0)
            }
            guard (0...23).contains(hour) else { return nil }
        }
        return Instant(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }
}
