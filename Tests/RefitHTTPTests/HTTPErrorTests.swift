import Foundation
import RefitHTTP
import Testing

@Suite("HTTPError and Retry-After")
struct HTTPErrorTests {
    // 1994-11-06T08:49:37Z, the RFC 9110 example date.
    let exampleDate = Date(timeIntervalSince1970: 784_111_777)

    @Test("Retry-After values", arguments: [
        ("120", Duration.seconds(120) as Duration?),
        (" 5 ", .seconds(5)),
        ("0", .zero),
        ("Sun, 06 Nov 1994 08:49:37 GMT", .seconds(30)),
        ("Sunday, 06-Nov-94 08:49:37 GMT", .seconds(30)),
        ("Sun Nov  6 08:49:37 1994", .seconds(30)),
        ("soon", nil),
        ("-5", nil),
        ("1.5", nil),
        ("", nil),
    ])
    func retryAfter(value: String, expected: Duration?) {
        #expect(HTTPError.parseRetryAfter(value, now: exampleDate.addingTimeInterval(-30)) == expected)
    }

    @Test("a Retry-After date in the past means now")
    func retryAfterPast() {
        #expect(HTTPError.parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: exampleDate.addingTimeInterval(100)) == .zero)
    }

    @Test("checked() classifies statuses and keeps one short sentence")
    func checked() throws {
        let ok = HTTPResponse(status: 204, headers: [:], body: Data(), effectiveURL: "http://h/")
        #expect(try ok.checked().status == 204)

        let body = Data(("line one\nline two " + String(repeating: "x", count: 1000)).utf8)
        let busy = HTTPResponse(status: 503, headers: ["Retry-After": "3"], body: body,
                                effectiveURL: "http://h/p?sig=SECRET", method: .post)
        do {
            _ = try busy.checked()
            Issue.record("503 did not throw")
        } catch {
            #expect(error.code == .httpStatus)
            #expect(error.isRetryable)
            #expect(error.retryAfter == .seconds(3))
            #expect(error.method == .post)
            #expect(error.url == "http://h/p?sig=<redacted>")
            #expect((error.bodyExcerpt?.count ?? 0) <= 201)
            #expect(!error.description.contains("\n"))
            #expect(!error.description.contains("SECRET"))
            #expect(error.description.hasPrefix("POST http://h/p?sig=<redacted> returned HTTP 503"))
            #expect(error.description.hasSuffix("[retryable]."))
        }
    }
}
