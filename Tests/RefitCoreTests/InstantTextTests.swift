import Foundation
import RefitCore
import Testing

@Suite("Instant text forms (the store's canonical fast path agrees with the general rules)")
struct InstantTextTests {
    @Test("iso8601 round-trips through parse across the calendar")
    func roundTrip() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let lowest = Instant(year: 0, month: 1, day: 1).secondsSinceEpoch
        let highest = Instant(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59).secondsSinceEpoch
        for _ in 0..<5_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let seconds = lowest + Int64(state >> 1) % (highest - lowest + 1)
            let instant = Instant(secondsSinceEpoch: seconds)
            let text = instant.iso8601
            #expect(text.utf8.count == 20)
            #expect(Instant.parse(text) == instant)
        }
        #expect(Instant(year: 2024, month: 2, day: 29, hour: 23, minute: 5, second: 9).iso8601 == "2024-02-29T23:05:09Z")
        #expect(Instant(year: 1, month: 1, day: 1).iso8601 == "0001-01-01T00:00:00Z")
        #expect(Instant(year: 12_000, month: 1, day: 1).iso8601 == "12000-01-01T00:00:00Z")
    }

    @Test("httpDate agrees with Foundation's RFC 1123 formatter")
    func httpDate() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<2_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let seconds = Int64(state >> 1) % 4_102_444_800   // 1970 ... 2100
            #expect(Instant(secondsSinceEpoch: seconds).httpDate
                    == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        }
        #expect(Instant(year: 2009, month: 10, day: 11, hour: 21, minute: 49, second: 13).httpDate == "Sun, 11 Oct 2009 21:49:13 GMT")
    }

    @Test("canonical-looking text that is not a time is refused", arguments: [
        "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-01-00T00:00:00Z",
        "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z", "2024-01-01T0a:00:00Z",
        "2024-01-01X00:00:00Z", "2024-01-01T00:00:00Y", "+024-01-01T00:00:00Z",
    ])
    func refused(_ text: String) {
        #expect(Instant.parse(text) == nil)
    }

    @Test("other accepted forms still parse with their offsets")
    func otherForms() {
        #expect(Instant.parse("2024-01-01T01:00:00+01:00") == Instant(year: 2024, month: 1, day: 1))
        #expect(Instant.parse(" 2024-01-01T00:00:00Z ") == Instant(year: 2024, month: 1, day: 1))
        #expect(Instant.parse("2024-01-01t00:00:00z") == Instant(year: 2024, month: 1, day: 1))
        #expect(Instant.parse("2024-01-01") == Instant(year: 2024, month: 1, day: 1))
    }

    @Test("trimming: only the ends, any characters the predicate names, empty when all go")
    func trimming() {
        #expect(" \t a b \n".trimmingCharacters() == "a b")
        #expect("//a/b//".trimming(while: { $0 == "/" }) == "a/b")
        #expect("\" 0.5\t\"".trimming(while: { $0 == " " || $0 == "\t" || $0 == "\"" }) == "0.5")
        #expect("///".trimming(while: { $0 == "/" }) == "")
        #expect("".trimmingCharacters() == "")
        #expect("x".dropFirst(0).trimming(while: \.isWhitespace) == "x")
    }

    @Test("whitespace trimming's shortcut for ASCII ends agrees with trimming Characters")
    func whitespaceShortcut() {
        // Prepend scalars (U+0600), combining marks, CR LF and non-ASCII spaces around ASCII ends.
        let pieces = ["", "a", "Z", "~", " ", "\t", "\r\n", "\n", "\u{0B}", "\u{7F}", "\u{A0}", "\u{2028}", "\u{3000}",
                      "\u{0600}", "\u{301}", " \u{301}", "é", "日", "1\u{FE0F}\u{20E3}", "👩‍👩‍👧", "\u{0600}1", "\u{1}"]
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let text = a + b + c
                    #expect(text.trimmingCharacters() == text.trimming(while: \.isWhitespace), "\(text.debugDescription)")
                    let sub = ("." + text + ".").dropFirst().dropLast()
                    #expect(sub.trimmingCharacters() == sub.trimming(while: \.isWhitespace), "\(text.debugDescription)")
                }
            }
        }
    }
}
