import Foundation
import RefitHTTP
import Testing

@Suite("Redactor")
struct RedactorTests {
    let redactor = Redactor.standard

    @Test("secret query parameters are replaced, others kept", arguments: [
        ("https://acct.blob.core.windows.net/c/b.csv?sv=2022-11-02&se=2024-01-01&sig=abc%2Bdef%3D",
         "https://acct.blob.core.windows.net/c/b.csv?sv=2022-11-02&se=2024-01-01&sig=<redacted>"),
        ("https://s3.example/b/k?X-Amz-Credential=AKID%2F20240101&X-Amz-Signature=deadbeef&X-Amz-Date=20240101T000000Z",
         "https://s3.example/b/k?X-Amz-Credential=<redacted>&X-Amz-Signature=<redacted>&X-Amz-Date=20240101T000000Z"),
        ("https://fn.example/api/run?code=abc123==&name=x#frag", "https://fn.example/api/run?code=<redacted>&name=x#frag"),
        ("http://h/p?SIG=x&Key=y&apikey=1&api_key=2&token=3&flag",
         "http://h/p?SIG=<redacted>&Key=<redacted>&apikey=<redacted>&api_key=<redacted>&token=<redacted>&flag"),
        ("http://h/p?%73ig=x", "http://h/p?%73ig=<redacted>"),
        ("https://user:p4ss@host:8080/path?a=1", "https://user:<redacted>@host:8080/path?a=1"),
        ("https://host/path?keyword=x&signature=y", "https://host/path?keyword=x&signature=y"),
        ("https://host/plain", "https://host/plain"),
    ])
    func urls(url: String, expected: String) {
        #expect(redactor.redact(url: url) == expected)
    }

    @Test("secret headers are recognised case-insensitively and by pattern")
    func headers() {
        for name in ["Authorization", "authorization", "Cookie", "Set-Cookie", "Ocp-Apim-Subscription-Key",
                     "x-amz-security-token", "x-ms-functions-key", "X-MS-ACCOUNT-KEY", "x-ms-encryption-key"] {
            #expect(redactor.isSecretHeader(name), "\(name)")
        }
        for name in ["Content-Type", "x-ms-version", "x-amz-date", "x-amz-content-sha256", "Keep-Alive"] {
            #expect(!redactor.isSecretHeader(name), "\(name)")
        }
        let described = redactor.describe(headers: ["Authorization": "Bearer abc", "Accept": "text/plain"])
        #expect(described == "Authorization: <redacted>, Accept: text/plain")
    }

    @Test("registered headers and parameters become secret")
    func registration() {
        var custom = Redactor.standard
        custom.registerSecretHeader("X-Service-Token")
        custom.registerSecretQueryParameter("Session")
        #expect(custom.isSecretHeader("x-service-token"))
        #expect(custom.redact(url: "http://h/?session=1&a=2") == "http://h/?session=<redacted>&a=2")
        #expect(Redactor.standard.addingSecretHeaders(["X-Other"]).isSecretHeader("x-other"))
        #expect(!Redactor.standard.isSecretHeader("X-Service-Token"))
    }

    @Test("free text loses known secret values and secret assignments")
    func text() {
        let text = "failed for https://h/p?sig=SIGVALUE&x=1 with header Bearer TOKENVALUE; key=K1 monkey=ok"
        let redacted = redactor.redact(text: text, secrets: ["TOKENVALUE"])
        #expect(!redacted.contains("SIGVALUE"))
        #expect(!redacted.contains("TOKENVALUE"))
        #expect(!redacted.contains("K1"))
        #expect(redacted.contains("monkey=ok"))
        #expect(redacted.contains("x=1"))
    }
}
