import Foundation
import Logging
import RefitHTTP
import Testing

@Suite("HTTPClient against a real local server")
struct HTTPClientTests {
    let server: TestServer

    init() throws {
        server = try TestServer.get()
    }

    // MARK: - Methods, bodies, headers

    @Test("methods with bodies reach the server intact", arguments: [
        HTTPMethod.get, .post, .put, .patch, .delete,
    ])
    func methodsWithBodies(method: HTTPMethod) async throws {
        let client = makeClient()
        let payload = Data("{\"n\": 1, \"text\": \"häh\"}".utf8)
        let response = try await client.send(HTTPRequest(
            method: method, url: server.url("/echo?a=1"),
            headers: ["Content-Type": "application/json", "X-Custom": "v"], body: payload))
        #expect(response.status == 200)
        let echo = try JSONDecoder().decode(Echo.self, from: response.body)
        #expect(echo.method == method.rawValue)
        #expect(echo.query == "a=1")
        #expect(echo.bodyLength == payload.count)
        #expect(Data(echo.body.utf8) == payload)
        #expect(echo.header("Content-Type") == "application/json")
        #expect(echo.header("X-Custom") == "v")
        #expect(echo.header("User-Agent") == "refit-tests")
        #expect(echo.header("Expect") == nil)
    }

    @Test("methods without a body", arguments: [HTTPMethod.get, .post, .put, .delete])
    func methodsWithoutBody(method: HTTPMethod) async throws {
        let response = try await makeClient().send(HTTPRequest(method: method, url: server.url("/echo")))
        let echo = try JSONDecoder().decode(Echo.self, from: response.body)
        #expect(echo.method == method.rawValue)
        #expect(echo.bodyLength == 0)
        // A body-less POST/PUT must not get libcurl's form content type.
        #expect(echo.header("Content-Type") == nil)
    }

    @Test("HEAD returns headers and no body, even above the size cap")
    func head() async throws {
        let client = makeClient(maxResponseBytes: 100)
        let response = try await client.send(HTTPRequest(method: .head, url: server.url("/large?bytes=5000")))
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        #expect(response.headers["content-length"] == "5000")
    }

    @Test("response headers: case-insensitive lookup and repeated fields")
    func responseHeaders() async throws {
        let response = try await makeClient().send(HTTPRequest(url: server.url("/multi")))
        #expect(response.headers.values(for: "x-multi") == ["a", "b"])
        #expect(response.headers["X-MULTI"] == "a")
        #expect(response.headers["Content-Length"] == "5")
        // Optional whitespace (spaces and tabs) around a value is not part of it; inside, it is.
        #expect(response.headers["X-Padded"] == "inner  space")
        #expect(response.text == "multi")
    }

    // MARK: - Connections

    @Test("sequential requests reuse one connection")
    func connectionReuse() async throws {
        let client = makeClient()
        let tag = UUID().uuidString
        var last = ""
        for _ in 0..<20 {
            last = try await client.send(HTTPRequest(url: server.url("/conn?tag=\(tag)"))).text
        }
        #expect(last == "1")
    }

    @Test("50 concurrent requests all complete")
    func concurrentRequests() async throws {
        let client = makeClient()
        let server = self.server
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                group.addTask {
                    let body = Data("request \(index)".utf8)
                    let response = try await client.send(HTTPRequest(method: .post, url: server.url("/echo"), body: body))
                    let echo = try JSONDecoder().decode(Echo.self, from: response.body)
                    return echo.body == "request \(index)" ? response.status : -1
                }
            }
            var all: [Int] = []
            for try await status in group { all.append(status) }
            return all
        }
        #expect(statuses.count == 50)
        #expect(statuses.allSatisfy { $0 == 200 })
    }

    @Test("a refused connection is a retryable .connectionRefused")
    func connectionRefused() async throws {
        let client = makeClient()
        let port = try await client.send(HTTPRequest(url: server.url("/unused-port"))).text
        let error = try #require(await httpError { try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/x")) })
        #expect(error.code == .connectionRefused)
        #expect(error.isRetryable)
        #expect(error.status == nil)
    }

    @Test("an unresolvable host is .cannotResolveHost")
    func unresolvableHost() async throws {
        let error = try #require(await httpError {
            try await makeClient().execute(HTTPRequest(url: "http://nonexistent.invalid/"))
        })
        #expect(error.code == .cannotResolveHost)
    }

    // MARK: - Timeouts and cancellation

    @Test("a response slower than the request timeout is a retryable .timedOut")
    func requestTimeout() async throws {
        let error = try #require(await httpError {
            try await makeClient().execute(HTTPRequest(url: server.url("/slow?seconds=10"), timeout: .milliseconds(300)))
        })
        #expect(error.code == .timedOut)
        #expect(error.isRetryable)
    }

    @Test("a service that never accepts the connection hits the connect timeout")
    func connectTimeout() async throws {
        let client = makeClient(connectTimeout: .milliseconds(300), totalTimeout: .seconds(30))
        let port = try await client.send(HTTPRequest(url: server.url("/blackhole-port"))).text
        let error = try #require(await httpError { try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/")) })
        #expect(error.code == .timedOut)
        #expect(error.isRetryable)
    }

    @Test("the client's total timeout applies when the request has none")
    func clientTimeout() async throws {
        let client = makeClient(totalTimeout: .milliseconds(300))
        let error = try #require(await httpError { try await client.execute(HTTPRequest(url: server.url("/slow?seconds=10"))) })
        #expect(error.code == .timedOut)
    }

    @Test("cancelling the awaiting task aborts the transfer with .cancelled")
    func cancellationInFlight() async throws {
        let client = makeClient(totalTimeout: .seconds(60))
        let url = server.url("/slow?seconds=30")
        let task = Task { () async throws -> HTTPResponse in
            try await client.execute(HTTPRequest(url: url))
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.result
        guard case .failure(let failure) = result, let error = failure as? HTTPError else {
            Issue.record("the cancelled request did not fail with an HTTPError")
            return
        }
        #expect(error.code == .cancelled)
        #expect(!error.isRetryable)
        // The client stays usable afterwards.
        #expect(try await client.send(HTTPRequest(url: server.url("/echo"))).status == 200)
    }

    @Test("a task cancelled before sending never starts the request")
    func cancellationBeforeStart() async throws {
        let client = makeClient()
        let url = server.url("/echo")
        let task = Task { () async throws -> HTTPResponse in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.execute(HTTPRequest(url: url))
        }
        let result = await task.result
        guard case .failure(let failure) = result, let error = failure as? HTTPError else {
            Issue.record("the cancelled request did not fail with an HTTPError")
            return
        }
        #expect(error.code == .cancelled)
    }

    // MARK: - Redirects

    @Test("redirects are followed up to the limit")
    func redirectsWithinLimit() async throws {
        let response = try await makeClient(maxRedirects: 5).send(HTTPRequest(url: server.url("/redirect/5")))
        #expect(response.status == 200)
        #expect(response.text == "done")
        #expect(response.effectiveURL.hasSuffix("/redirect/0"))
    }

    @Test("one redirect beyond the limit is a terminal .tooManyRedirects")
    func redirectsBeyondLimit() async throws {
        let error = try #require(await httpError {
            try await makeClient(maxRedirects: 5).execute(HTTPRequest(url: self.server.url("/redirect/6")))
        })
        #expect(error.code == .tooManyRedirects)
        #expect(!error.isRetryable)
    }

    @Test("a redirect loop ends in .tooManyRedirects")
    func redirectLoop() async throws {
        let error = try #require(await httpError { try await makeClient().execute(HTTPRequest(url: self.server.url("/loop"))) })
        #expect(error.code == .tooManyRedirects)
    }

    @Test("maxRedirects 0 returns the 3xx response unfollowed")
    func noRedirects() async throws {
        let client = makeClient(maxRedirects: 0)
        let response = try await client.execute(HTTPRequest(url: server.url("/redirect/1")))
        #expect(response.status == 302)
        #expect(response.headers["location"] == "/redirect/0")
        let error = try #require(await httpError { try await client.send(HTTPRequest(url: self.server.url("/redirect/1"))) })
        #expect(error.code == .httpStatus)
        #expect(error.status == 302)
    }

    // MARK: - Size cap and broken responses

    @Test("a body at the cap is accepted")
    func bodyAtCap() async throws {
        let response = try await makeClient(maxResponseBytes: 1000).send(HTTPRequest(url: server.url("/large?bytes=1000")))
        #expect(response.body.count == 1000)
    }

    @Test("a body over the cap is a terminal .responseTooLarge", arguments: [
        "/large?bytes=1001", "/large?bytes=200000", "/large?bytes=200000&chunked=1",
    ])
    func bodyOverCap(path: String) async throws {
        let error = try #require(await httpError {
            try await makeClient(maxResponseBytes: 1000).execute(HTTPRequest(url: self.server.url(path)))
        })
        #expect(error.code == .responseTooLarge)
        #expect(!error.isRetryable)
    }

    @Test("a truncated body is a retryable .transport error")
    func truncatedBody() async throws {
        let error = try #require(await httpError { try await makeClient().execute(HTTPRequest(url: self.server.url("/truncated"))) })
        #expect(error.code == .transport)
        #expect(error.isRetryable)
    }

    @Test("a reply that is not HTTP is a .transport error")
    func malformedReply() async throws {
        let error = try #require(await httpError { try await makeClient().execute(HTTPRequest(url: self.server.url("/garbage"))) })
        #expect(error.code == .transport)
    }

    // MARK: - Status classification

    @Test("throttling and server errors are retryable", arguments: [408, 429, 500, 502, 503, 504])
    func retryableStatus(status: Int) async throws {
        let error = try #require(await httpError {
            try await makeClient().send(HTTPRequest(url: self.server.url("/status/\(status)")))
        })
        #expect(error.code == .httpStatus)
        #expect(error.status == status)
        #expect(error.isRetryable)
        #expect(error.bodyExcerpt == "status \(status)")
    }

    @Test("other client errors are terminal", arguments: [400, 401, 403, 404, 409, 422])
    func terminalStatus(status: Int) async throws {
        let client = makeClient()
        let raw = try await client.execute(HTTPRequest(url: server.url("/status/\(status)")))
        #expect(raw.status == status)
        let error = try #require(await httpError { try await client.send(HTTPRequest(url: self.server.url("/status/\(status)"))) })
        #expect(error.code == .httpStatus)
        #expect(error.status == status)
        #expect(!error.isRetryable)
        #expect(error.retryAfter == nil)
    }

    @Test("503 with Retry-After in seconds")
    func retryAfterSeconds() async throws {
        let error = try #require(await httpError {
            try await makeClient().send(HTTPRequest(url: self.server.url("/status/503?retry_after=7")))
        })
        #expect(error.isRetryable)
        #expect(error.retryAfter == .seconds(7))
        #expect(error.description.contains("retry after 7 s"))
    }

    @Test("429 with Retry-After as an HTTP-date")
    func retryAfterDate() async throws {
        let error = try #require(await httpError {
            try await makeClient().send(HTTPRequest(url: self.server.url("/status/429?retry_after_date=60")))
        })
        #expect(error.isRetryable)
        let wait = try #require(error.retryAfter)
        #expect(wait > .seconds(30) && wait <= .seconds(61))
    }

    // MARK: - Redaction

    @Test("secrets in headers and query never appear in errors or logs")
    func redaction() async throws {
        let capture = LogCapture()
        let client = makeClient(logger: capture.logger)
        let token = "Bearer TOPSECRET-token-123"
        let secretRequest = { (url: String) in
            HTTPRequest(url: url, headers: ["Authorization": token, "x-ms-functions-key": "FUNCKEY-456",
                                            "Ocp-Apim-Subscription-Key": "APIMKEY-789"])
        }
        // A status error whose body echoes the request line and headers back.
        let statusError = try #require(await httpError {
            try await client.send(secretRequest(self.server.url("/status/403?sv=2024&sig=SIGSECRET%2B1&echo=1")))
        })
        // A transport error.
        let port = try await client.send(HTTPRequest(url: server.url("/unused-port"))).text
        let transportError = try #require(await httpError {
            try await client.execute(secretRequest("http://127.0.0.1:\(port)/x?sig=SIGSECRET2&code=FUNCCODE"))
        })
        let texts = [statusError.description, statusError.url, statusError.bodyExcerpt ?? "",
                     transportError.description, transportError.url] + capture.lines
        for secret in ["TOPSECRET", "FUNCKEY-456", "APIMKEY-789", "SIGSECRET", "FUNCCODE"] {
            #expect(!texts.contains { $0.contains(secret) }, "\(secret) leaked")
        }
        #expect(statusError.url.contains("sig=<redacted>"))
        #expect(statusError.url.contains("sv=2024"))
        #expect(statusError.bodyExcerpt?.contains("<redacted>") == true)
        #expect(transportError.description.contains("code=<redacted>"))
        #expect(capture.lines.contains { $0.contains("Authorization: <redacted>") })
        #expect(capture.lines.contains { $0.contains("-> 403") })
    }

    // MARK: - SigV4

    @Test("SigV4 signs the request and the payload hash header")
    func sigV4() async throws {
        let credentials = SigV4Credentials(region: "eu-west-1", service: "s3", accessKeyId: "AKIDEXAMPLE",
                                           secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                           sessionToken: "SESSION-TOKEN-abc")
        let query = SigV4.canonicalQuery([("prefix", "data/2024/"), ("list-type", "2")])
        let response = try await makeClient().send(HTTPRequest(
            method: .put, url: server.url("/echo?\(query)"), body: Data("hello".utf8), sigV4: credentials))
        let echo = try JSONDecoder().decode(Echo.self, from: response.body)
        #expect(echo.query == "list-type=2&prefix=data%2F2024%2F")
        let authorization = try #require(echo.header("Authorization"))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
        #expect(authorization.contains("/eu-west-1/s3/aws4_request"))
        let signedHeaders = authorization.components(separatedBy: "SignedHeaders=").last?
            .split(separator: ",").first.map(String.init) ?? ""
        #expect(signedHeaders.split(separator: ";").contains("x-amz-content-sha256"))
        #expect(signedHeaders.split(separator: ";").contains("x-amz-date"))
        #expect(echo.header("x-amz-content-sha256") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(echo.header("x-amz-security-token") == "SESSION-TOKEN-abc")
        #expect(echo.header("x-amz-date") != nil)
        #expect(!echo.headers.contains { $0.joined().contains("wJalrXUtnFEMI") })
    }

    @Test("SigV4 without a body sends UNSIGNED-PAYLOAD")
    func sigV4Unsigned() async throws {
        let credentials = SigV4Credentials(region: "us-east-1", accessKeyId: "AKID", secretAccessKey: "SECRET-KEY")
        let response = try await makeClient().send(HTTPRequest(url: server.url("/echo"), sigV4: credentials))
        let echo = try JSONDecoder().decode(Echo.self, from: response.body)
        #expect(echo.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD")
        #expect(echo.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 ") == true)
    }

    @Test("SigV4 signatures verify against an independent AWS-style canonicalization", arguments: [
        (HTTPMethod.get, nil as String?), (.put, "object body"), (.head, nil), (.delete, nil),
    ])
    func sigV4Verified(method: HTTPMethod, body: String?) async throws {
        let credentials = SigV4Credentials(region: "us-east-1", service: "s3", accessKeyId: "AKIDEXAMPLE",
                                           secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                           sessionToken: "FQoGZXIvYXdzEXAMPLE/token+=")
        let path = SigV4.encodePath("/sigv4/bucket/data 2024/01/a+b.csv")
        let query = SigV4.canonicalQuery([("prefix", "data/2024/01 x"), ("list-type", "2"), ("acl", "")])
        let request = HTTPRequest(method: method, url: server.url("\(path)?\(query)"),
                                  body: body.map { Data($0.utf8) }, sigV4: credentials)
        let response = try await makeClient().execute(request)
        #expect(response.status == 200, "\(response.text)")

        var wrong = request
        wrong.sigV4?.secretAccessKey = "not-the-secret"
        #expect(try await makeClient().execute(wrong).status == 403)
    }

    // MARK: - TLS

    @Test("https to a plain-HTTP port fails with a TLS or transport error")
    func tlsAgainstPlainHTTP() async throws {
        let error = try #require(await httpError {
            try await makeClient().execute(HTTPRequest(url: "https://127.0.0.1:\(self.server.port)/echo"))
        })
        #expect(error.code == .tls || error.code == .transport)
    }

    @Test("an untrusted certificate is rejected with .tls")
    func tlsUntrusted() async throws {
        let error = try #require(await httpError { try await makeClient().execute(HTTPRequest(url: self.server.tlsURL("/echo"))) })
        #expect(error.code == .tls)
        #expect(!error.isRetryable)
    }

    @Test("a CA file makes a private certificate trusted, with verification still on")
    func tlsWithCAFile() async throws {
        let client = makeClient(caFile: server.certificateFile)
        let response = try await client.send(HTTPRequest(url: server.tlsURL("/echo")))
        #expect(response.status == 200)
        // The certificate is for the IP 127.0.0.1; "localhost" does not match it, so host checking is on.
        let error = try #require(await httpError { try await client.execute(HTTPRequest(url: "https://localhost:\(self.server.tlsPort)/echo")) })
        #expect(error.code == .tls)
    }

    @Test("a missing CA file is a .tls error")
    func tlsMissingCAFile() async throws {
        let client = makeClient(caFile: "/nonexistent/ca.pem")
        let error = try #require(await httpError { try await client.execute(HTTPRequest(url: self.server.tlsURL("/echo"))) })
        #expect(error.code == .tls)
    }

    // MARK: - Invalid input

    @Test("unusable requests fail with .invalidRequest before any I/O")
    func invalidRequests() async throws {
        let client = makeClient()
        let requests = [
            HTTPRequest(url: "ftp://127.0.0.1/file"),
            HTTPRequest(url: "not a url"),
            HTTPRequest(url: server.url("/echo"), headers: ["X-Bad": "a\r\nInjected: yes"]),
            HTTPRequest(method: "GE T", url: server.url("/echo")),
        ]
        for request in requests {
            let error = try #require(await httpError { try await client.execute(request) })
            #expect(error.code == .invalidRequest)
            #expect(!error.isRetryable)
        }
    }
}
