import Testing
@testable import RefitCore

/// ADF v1 functions and system variables [FN1] (docs/SEMANTICS.md §2.4).
@Suite struct ExpressionTests {
    func eval(_ text: String, _ x: String = "2013-09-15T12:00:00Z", sourceLocation: SourceLocation = #_sourceLocation) throws -> ExpressionValue {
        // X is bound to SliceStart/WindowStart; the end is an hour later.
        let start = at(x, sourceLocation: sourceLocation)
        return try ADFExpression.parse(text).evaluate(ExpressionContext(window: Slice(start: start, end: start + .hours(1))))
    }

    func date(_ text: String, _ x: String = "2013-09-15T12:00:00Z", sourceLocation: SourceLocation = #_sourceLocation) throws -> Instant? {
        try eval(text, x, sourceLocation: sourceLocation).dateTime
    }

    func error(_ text: String) -> ExpressionError? {
        do { _ = try ADFExpression.parse(text) } catch { return error }
        return nil
    }

    // MARK: FN1 function table examples

    @Test("[FN1] Time.AddHours: 9/5/2013 12:00:00 PM + 2 hours = 9/5/2013 2:00:00 PM")
    func addHours() throws { #expect(try date("Time.AddHours(SliceStart, 2)", "2013-09-05T12:00:00Z") == at("2013-09-05T14:00:00Z")) }

    @Test("[FN1] Time.AddMinutes: 9/15/2013 12:00:00 PM + 15 minutes = 12:15:00 PM")
    func addMinutes() throws { #expect(try date("Time.AddMinutes(SliceStart, 15)") == at("2013-09-15T12:15:00Z")) }

    @Test("[FN1] Time.StartOfHour of 9/15/2013 05:10:23 PM is 05:00:00 PM")
    func startOfHour() throws { #expect(try date("Time.StartOfHour(SliceStart)", "2013-09-15T17:10:23Z") == at("2013-09-15T17:00:00Z")) }

    @Test("[FN1] Date.AddDays: ±2 days from 9/15/2013 12:00:00 PM = 9/17 and 9/13")
    func addDays() throws {
        #expect(try date("Date.AddDays(SliceStart, 2)") == at("2013-09-17T12:00:00Z"))
        #expect(try date("Date.AddDays(SliceStart, -2)") == at("2013-09-13T12:00:00Z"))
    }

    @Test("[FN1] Date.AddMonths: ±1 month from 9/15/2013 = 10/15 and 8/15; the day is clamped like .NET")
    func addMonths() throws {
        #expect(try date("Date.AddMonths(SliceStart, 1)") == at("2013-10-15T12:00:00Z"))
        #expect(try date("Date.AddMonths(SliceStart, -1)") == at("2013-08-15T12:00:00Z"))
        #expect(try date("Date.AddMonths(SliceStart, 1)", "2016-01-31T00:00:00Z") == at("2016-02-29"))
    }

    @Test("[FN1] Date.AddQuarters: 9/15/2013 + 1 quarter = 12/15/2013")
    func addQuarters() throws { #expect(try date("Date.AddQuarters(SliceStart, 1)") == at("2013-12-15T12:00:00Z")) }

    @Test("[FN1] Date.AddWeeks: +1 week = 9/22/2013; −1 week is 9/8 (the doc's 9/7 is a typo: 15 − 7 = 8)")
    func addWeeks() throws {
        #expect(try date("Date.AddWeeks(SliceStart, 1)") == at("2013-09-22T12:00:00Z"))
        #expect(try date("Date.AddWeeks(SliceStart, -1)") == at("2013-09-08T12:00:00Z"))
    }

    @Test("[FN1] Date.AddYears: ±1 year from 9/15/2013 = 9/15/2014 and 9/15/2012; Feb 29 clamps to Feb 28")
    func addYears() throws {
        #expect(try date("Date.AddYears(SliceStart, 1)") == at("2014-09-15T12:00:00Z"))
        #expect(try date("Date.AddYears(SliceStart, -1)") == at("2012-09-15T12:00:00Z"))
        #expect(try date("Date.AddYears(SliceStart, 1)", "2016-02-29") == at("2017-02-28"))
    }

    @Test("[FN1] Date.Day of 9/15/2013 is 15 (§10.13: the doc's '9' is a typo)")
    func day() throws { #expect(try eval("Date.Day(SliceStart)") == .integer(15)) }

    @Test("[FN1] Date.DayOfWeek of 9/15/2013 is Sunday, which is 0 as in .NET's DayOfWeek")
    func dayOfWeek() throws {
        #expect(try eval("Date.DayOfWeek(SliceStart)") == .integer(0))
        #expect(try eval("Date.DayOfWeek(SliceStart)", "2015-01-01") == .integer(4))
    }

    @Test("[FN1] Date.DayOfYear: 12/1/2015 → 335, 12/31/2015 → 365, 12/31/2016 → 366 (leap year)")
    func dayOfYear() throws {
        #expect(try eval("Date.DayOfYear(SliceStart)", "2015-12-01") == .integer(335))
        #expect(try eval("Date.DayOfYear(SliceStart)", "2015-12-31") == .integer(365))
        #expect(try eval("Date.DayOfYear(SliceStart)", "2016-12-31") == .integer(366))
    }

    @Test("[FN1] Date.DaysInMonth of 9/15/2013 is 30")
    func daysInMonth() throws {
        #expect(try eval("Date.DaysInMonth(SliceStart)") == .integer(30))
        #expect(try eval("Date.DaysInMonth(SliceStart)", "2000-02-10") == .integer(29))
        #expect(try eval("Date.DaysInMonth(SliceStart)", "1900-02-10") == .integer(28))
    }

    @Test("[FN1] Date.EndOfDay of 9/15/2013 05:10:23 PM is 11:59:59 PM")
    func endOfDay() throws { #expect(try date("Date.EndOfDay(SliceStart)", "2013-09-15T17:10:23Z") == at("2013-09-15T23:59:59Z")) }

    @Test("[FN1] Date.EndOfMonth of 9/15/2013 05:10:23 PM is 9/30/2013 11:59:59 PM")
    func endOfMonth() throws {
        #expect(try date("Date.EndOfMonth(SliceStart)", "2013-09-15T17:10:23Z") == at("2013-09-30T23:59:59Z"))
        #expect(try date("Date.EndOfMonth(SliceStart)", "2013-12-15") == at("2013-12-31T23:59:59Z"))
    }

    @Test("[FN1] Date.StartOfDay of 9/15/2013 05:10:23 PM is 12:00:00 AM")
    func startOfDay() throws { #expect(try date("Date.StartOfDay(SliceStart)", "2013-09-15T17:10:23Z") == at("2013-09-15")) }

    @Test("[FN1] DateTime.From parses a string; ISO 8601 and the invariant M/d/yyyy h:mm:ss tt form")
    func dateTimeFrom() throws {
        #expect(try date("DateTime.From('2013-09-15T17:10:23Z')") == at("2013-09-15T17:10:23Z"))
        #expect(try date("DateTime.From('9/15/2013 05:10:23 PM')") == at("2013-09-15T17:10:23Z"))
        #expect(try date("DateTime.From('9/15/2013 12:00:00 AM')") == at("2013-09-15"))
        #expect(try date("DateTime.From('9/15/2013')") == at("2013-09-15"))
        #expect(error("DateTime.From('next tuesday')")?.message == "DateTime.From cannot read 'next tuesday' as a date and time")
    }

    @Test("[FN1] DateTime.Ticks counts 100 ns ticks since 0001-01-01, in Int64 even for 9999")
    func ticks() throws {
        #expect(try eval("DateTime.Ticks(DateTime.From('2000-01-01'))") == .integer(630_822_816_000_000_000))
        #expect(try eval("DateTime.Ticks(SliceStart)") == .integer(635_148_432_000_000_000))
        #expect(try eval("DateTime.Ticks(SliceStart)", "0001-01-01") == .integer(0))
        #expect(try eval("DateTime.Ticks(SliceStart)", "9999-12-31T23:59:59Z") == .integer(3_155_378_975_990_000_000))
    }

    // MARK: Text.Format and $$ values

    @Test("[FN1] sqlReaderQuery: $$Text.Format with \\\\' escapes and {0:yyyyMMdd-HH}")
    func sqlReaderQuery() throws {
        // The JSON text \\' reaches Refit as \' .
        let value = #"$$Text.Format('SELECT * FROM MyTable WHERE StartTime = \'{0:yyyyMMdd-HH}\'', WindowStart)"#
        #expect(try ExpressionTemplate.expand(value, in: ExpressionContext(window: slice("2013-09-15T12:00:00Z", "2013-09-15T13:00:00Z")))
                == "SELECT * FROM MyTable WHERE StartTime = '20130915-12'")
    }

    @Test("[BE1] docs/SAMPLES.md §3.4 globalParameters query, with JSON-decoded \\' and with a literal \\\\'")
    func globalParametersSample() throws {
        let context = ExpressionContext(window: slice("2016-02-13T00:00:00Z", "2016-02-14T00:00:00Z"))
        let decoded = #"$$Text.Format('SELECT * FROM myTable WHERE timeColumn = \'{0:yyyy-MM-dd HH:mm:ss}\'', Time.AddHours(WindowStart, 0))"#
        let raw = #"$$Text.Format('SELECT * FROM myTable WHERE timeColumn = \\'{0:yyyy-MM-dd HH:mm:ss}\\'', Time.AddHours(WindowStart, 0))"#
        let expected = "SELECT * FROM myTable WHERE timeColumn = '2016-02-13 00:00:00'"
        #expect(try ExpressionTemplate.expand(decoded, in: context) == expected)
        #expect(try ExpressionTemplate.expand(raw, in: context) == expected)
    }

    @Test("[FN1] nested functions take no $$; a space after ':' is part of the .NET format")
    func nestedAndLeadingSpace() throws {
        let value = #"$$Text.Format('PartitionKey eq \'my_pkey_filter_value\' and RowKey ge \'{0: yyyy-MM-dd HH:mm:ss}\'', Time.AddHours(SliceStart, -6))"#
        #expect(try ExpressionTemplate.expand(value, in: ExpressionContext(window: slice("2013-09-15T12:00:00Z", "2013-09-15T13:00:00Z")))
                == "PartitionKey eq 'my_pkey_filter_value' and RowKey ge ' 2013-09-15 06:00:00'")
    }

    @Test("[FN1] Hive and stored-procedure examples: {0:yyyy}, {0:MM}, {0:dd} and {0:yyyy-MM-dd HH:mm:ss}")
    func fn1Examples() throws {
        let context = ExpressionContext(window: slice("2016-08-02T03:00:00Z", "2016-08-02T04:00:00Z"))
        #expect(try ExpressionTemplate.expand("$$Text.Format('wasb://adfwalkthrough@<storageaccountname>.blob.core.windows.net/samplein/yearno={0:yyyy}/monthno={0:MM}/dayno={0:dd}/', SliceStart)", in: context)
                == "wasb://adfwalkthrough@<storageaccountname>.blob.core.windows.net/samplein/yearno=2016/monthno=08/dayno=02/")
        #expect(try ExpressionTemplate.expand("$$Text.Format('{0:yyyy-MM-dd HH:mm:ss}', SliceStart)", in: context) == "2016-08-02 03:00:00")
    }

    @Test("[FN1] Example 3's 'WindowsStart' typo is reported at its column with a suggestion")
    func windowsStartTypo() throws {
        let value = "$$Text.Format('{0:yyyy}',WindowsStart)"
        #expect(throws: ExpressionError(column: 26, "unknown variable WindowsStart; did you mean WindowStart?")) {
            try ExpressionTemplate.parse(value)
        }
    }

    @Test("Text.Format: several arguments, {1:fmt}, {{ }} escapes, alignment, integers and strings")
    func textFormat() throws {
        #expect(try eval("Text.Format('{{{0:yyyy}}} {1:MMM} {2} {3:D4} {4} {5,5}|{5,-5}|', SliceStart, SliceEnd, 42, 7, 'x', 'ab')")
                == .string("{2013} Sep 42 0007 x    ab|ab   |"))
        #expect(try eval("Text.Format('{0}', SliceStart)") == .string("2013-09-15T12:00:00Z"))
        #expect(try eval("Text.Format('no items')") == .string("no items"))
        #expect(error("Text.Format('{1}', SliceStart)")?.message == "Text.Format references {1} but only 1 value follows the format string")
        #expect(error("Text.Format('{0:H}', SliceStart)")?.message.hasPrefix("Text.Format item {0} has an invalid format") == true)
        #expect(error("Text.Format('a } b')")?.message == "a lone '}' in a Text.Format string must be written '}}'")
        #expect(error("Text.Format('{0', SliceStart)") != nil)
    }

    @Test("$$ rule: only values starting with $$ are expressions; others stay literal")
    func templateRule() throws {
        let context = ExpressionContext(window: slice("2013-09-15T12:00:00Z", "2013-09-15T13:00:00Z"))
        #expect(try ExpressionTemplate.expand("Value 1", in: context) == "Value 1")
        #expect(try ExpressionTemplate.expand("pid $$ and $$Date.Day(SliceStart)", in: context) == "pid $$ and $$Date.Day(SliceStart)")
        #expect(try ExpressionTemplate.expand("$$Date.Day(SliceStart)", in: context) == "15")
        #expect(try ExpressionTemplate.expand("$$SliceEnd  ", in: context) == "2013-09-15T13:00:00Z")
        #expect(throws: ExpressionError(column: 3, "'$$' must be followed by an expression")) { try ExpressionTemplate.parse("$$ ") }
        #expect(throws: ExpressionError(column: 3, "unknown function Date.Foo")) { try ExpressionTemplate.parse("$$Date.Foo(SliceStart)") }
    }

    // MARK: Grammar and errors

    @Test("[SE1] unary minus with spaces: Date.AddDays(SliceStart, - Date.DayOfWeek(SliceStart))")
    func unaryMinusWithSpaces() throws {
        #expect(try date("Date.AddDays(SliceStart, - Date.DayOfWeek(SliceStart))", "2015-01-01") == at("2014-12-28"))
        #expect(try date("Date.AddDays(SliceEnd,  -Date.DayOfWeek(SliceEnd))", "2015-01-01T23:00:00Z") == at("2014-12-28"))
        #expect(try eval("-(-3)") == .integer(3))
        #expect(try eval("- - 3") == .integer(3))
    }

    @Test("arity, names and types are checked at parse time with 1-based columns")
    func parseErrors() {
        #expect(error("Date.AddDays(SliceStart)") == ExpressionError(column: 1, "Date.AddDays expects 2 arguments, got 1"))
        #expect(error("Date.Foo(SliceStart)") == ExpressionError(column: 1, "unknown function Date.Foo"))
        #expect(error("Date.AddDays(Slicestart, -1)") == ExpressionError(column: 14, "unknown variable Slicestart; did you mean SliceStart?"))
        #expect(error("Date.adddays(SliceStart, -1)") == ExpressionError(column: 1, "unknown function Date.adddays; did you mean Date.AddDays?"))
        #expect(error("Date.AddDays(1, SliceStart)") == ExpressionError(column: 14, "Date.AddDays expects a DateTime as argument 1, got an integer"))
        #expect(error("Date.AddDays(SliceStart, 'x')") == ExpressionError(column: 26, "Date.AddDays expects an integer as argument 2, got a string"))
        #expect(error("Text.Format()") == ExpressionError(column: 1, "Text.Format expects at least 1 argument, got 0"))
        #expect(error("- SliceStart") == ExpressionError(column: 1, "'-' applies only to integers, not to a DateTime"))
        #expect(error("SliceStart SliceEnd") == ExpressionError(column: 12, "unexpected 'SliceEnd' after the end of the expression"))
        #expect(error("Date.AddDays(SliceStart, 1") == ExpressionError(column: 27, "expected ',' or ')' after argument 2 of Date.AddDays, found end of expression"))
        #expect(error("Date.AddDays") == ExpressionError(column: 1, "Date.AddDays is a function; call it with arguments in parentheses"))
        #expect(error("SliceStart(1)") == ExpressionError(column: 1, "SliceStart is a variable, not a function"))
        #expect(error("Text.Format('abc") == ExpressionError(column: 13, "the string starting here is not closed with '"))
        #expect(error("Date.AddDays(SliceStart, 99999999999999999999)") == ExpressionError(column: 26, "the integer 99999999999999999999 is too large"))
        #expect(error("Date.AddDays(SliceStart, 1 # 2)") == ExpressionError(column: 28, "unexpected character '#'"))
        #expect(error("") == ExpressionError(column: 1, "expected a value, found end of expression"))
    }

    @Test("run-time errors keep the call's column; results stay in .NET's years 1–9999")
    func runtimeErrors() throws {
        let expression = try ADFExpression.parse("Date.AddDays(Date.AddYears(SliceStart, 9000), 1)")
        #expect(throws: ExpressionError(column: 14, "Date.AddYears gives a date outside the years 1 to 9999")) {
            try expression.evaluate(ExpressionContext(window: slice("2013-09-15", "2013-09-16")))
        }
        let huge = try ADFExpression.parse("Time.AddHours(SliceStart, 9223372036854775807)")
        #expect(throws: ExpressionError.self) { try huge.evaluate(ExpressionContext(window: slice("2013-09-15", "2013-09-16"))) }
        let dynamic = try ADFExpression.parse("Text.Format(Text.Format('{0}{1}', '{', '2}'), 5)")
        #expect(throws: ExpressionError(column: 1, "Text.Format references {2} but only 1 value follows the format string")) {
            try dynamic.evaluate(ExpressionContext(window: slice("2013-09-15", "2013-09-16")))
        }
        #expect(throws: ExpressionError(column: 1, "the expression gives an integer, but a DateTime is needed")) {
            try ADFExpression.parse("Date.Day(SliceStart)").evaluateDateTime(ExpressionContext(window: slice("2013-09-15", "2013-09-16")))
        }
    }

    @Test("the four system variables map to the window")
    func variables() throws {
        let context = ExpressionContext(sliceStart: at("2020-01-01"), sliceEnd: at("2020-01-02"),
                                        windowStart: at("2020-01-03"), windowEnd: at("2020-01-04"))
        for (name, expected) in [("SliceStart", "2020-01-01"), ("SliceEnd", "2020-01-02"), ("WindowStart", "2020-01-03"), ("WindowEnd", "2020-01-04")] {
            #expect(try ADFExpression.parse(name).evaluate(context) == .dateTime(at(expected)))
        }
    }
}
