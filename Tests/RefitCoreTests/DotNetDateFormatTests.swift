import Testing
@testable import RefitCore

/// .NET custom and standard date/time formats in the invariant culture (docs/SEMANTICS.md D10).
@Suite struct DotNetDateFormatTests {
    let sunday = Instant(year: 2013, month: 9, day: 15, hour: 17, minute: 5, second: 3)

    func f(_ pattern: String, _ instant: Instant? = nil) throws -> String {
        try DotNetDateFormat.format(instant ?? sunday, pattern)
    }

    @Test("custom specifiers", arguments: [
        ("yyyy", "2013"), ("yyy", "2013"), ("yy", "13"), ("yyyyy", "02013"),
        ("MM", "09"), ("%M", "9"), ("MMM", "Sep"), ("MMMM", "September"), ("MMMMM", "September"),
        ("dd", "15"), ("%d", "15"), ("ddd", "Sun"), ("dddd", "Sunday"),
        ("HH", "17"), ("%H", "17"), ("hh", "05"), ("%h", "5"), ("mm", "05"), ("%m", "5"), ("ss", "03"), ("%s", "3"),
        ("fff", "000"), ("fffffff", "0000000"), ("ss.FFF", "03"), ("ss.fff", "03.000"), ("tt", "PM"), ("%t", "P"),
        ("zzz", "+00:00"), ("zz", "+00"), ("%z", "+0"), ("HH:mmK", "17:05Z"), ("%g", "A.D."),
        ("yyyyMMddHH", "2013091517"), ("yyyy-MM-dd HH:mm:ss", "2013-09-15 17:05:03"), ("yyyyMMdd-HH", "20130915-17"),
        ("yyyy/MM/dd", "2013/09/15"), ("'year' yyyy", "year 2013"), ("\"T\"HH", "T17"), ("\\yyyyy", "y2013"),
        ("'it''s'", "its"), ("'a\\'b'", "a'b"), ("HH'h'mm", "17h05"), ("Ab-Z_", "Ab-Z_"), ("%d%M", "159"),
    ])
    func custom(_ pattern: String, _ expected: String) throws {
        #expect(try f(pattern) == expected)
    }

    @Test("invariant standard formats: d D f F g G m M o O r R s t T u U y Y", arguments: [
        ("d", "09/15/2013"), ("D", "Sunday, 15 September 2013"), ("f", "Sunday, 15 September 2013 17:05"),
        ("F", "Sunday, 15 September 2013 17:05:03"), ("g", "09/15/2013 17:05"), ("G", "09/15/2013 17:05:03"),
        ("m", "September 15"), ("M", "September 15"), ("o", "2013-09-15T17:05:03.0000000Z"), ("O", "2013-09-15T17:05:03.0000000Z"),
        ("r", "Sun, 15 Sep 2013 17:05:03 GMT"), ("R", "Sun, 15 Sep 2013 17:05:03 GMT"), ("s", "2013-09-15T17:05:03"),
        ("t", "17:05"), ("T", "17:05:03"), ("u", "2013-09-15 17:05:03Z"), ("U", "Sunday, 15 September 2013 17:05:03"),
        ("y", "2013 September"), ("Y", "2013 September"), ("", "09/15/2013 17:05:03"),
    ])
    func standard(_ pattern: String, _ expected: String) throws {
        #expect(try f(pattern) == expected)
    }

    @Test("[FN1][BL1] quirk kept: hh is the 12-hour clock, so 17:00 prints 05 and midnight prints 12")
    func twelveHourClock() throws {
        #expect(try f("hh", Instant(year: 2014, month: 10, day: 1, hour: 17)) == "05")
        #expect(try f("hh tt", Instant(year: 2014, month: 10, day: 1, hour: 0)) == "12 AM")
        #expect(try f("hh tt", Instant(year: 2014, month: 10, day: 1, hour: 12)) == "12 PM")
        #expect(try f("%h", Instant(year: 2014, month: 10, day: 1, hour: 3)) == "3")
    }

    @Test("small years pad as .NET does: y, yy, yyy, yyyy for year 5 and 2001")
    func years() throws {
        let five = Instant(year: 5, month: 1, day: 2)
        #expect(try f("%y", five) == "5")
        #expect(try f("yy", five) == "05")
        #expect(try f("yyy", five) == "005")
        #expect(try f("yyyy", five) == "0005")
        #expect(try f("%y", Instant(year: 2001, month: 1, day: 1)) == "1")
    }

    @Test("invalid formats are rejected with one sentence", arguments: ["H", "h", "Q", "K", "%", "%%", "ab%", "'abc", "ffffffff", "yyyy\\"])
    func invalid(_ pattern: String) {
        #expect(throws: DotNetFormatError.self) { try DotNetDateFormat.format(Instant.dotNetMin, pattern) }
    }

    @Test("a lone standard-looking letter explains the %x form")
    func singleLetterMessage() {
        #expect(throws: DotNetFormatError(offset: 0, message: "format 'H' is a single character, which .NET reads as a standard format, and 'H' is not one; write '%H' for the specifier on its own")) {
            try DotNetDateFormat.format(Instant.dotNetMin, "H")
        }
    }

    @Test("a pattern read once formats every instant as the one-off call does, and its errors surface when it is read")
    func patternReadOnce() throws {
        let patterns = ["yyyy/MM/dd/HH", "'Hour' h tt, dddd d MMMM yy", "ss.FFF", "o", "%d%M", "yyyyMMddHH'.csv'"]
        for text in patterns {
            let pattern = try DotNetDateFormat.Pattern(text)
            var instant = Instant(year: 2023, month: 12, day: 31, hour: 20)
            for _ in 0..<30 {
                #expect(pattern.format(instant) == (try f(text, instant)))
                instant = instant + .hours(1)
            }
        }
        #expect(try DotNetDateFormat.Pattern("yyyy/MM/dd/HH").format(Instant(year: 2024, month: 1, day: 1, hour: 7)) == "2024/01/01/07")
        #expect(throws: DotNetFormatError(offset: 4, message: "the quoted literal starting with ' is not closed")) {
            try DotNetDateFormat.Pattern("yyyy'abc")
        }
    }
}
