import CCurl
import CLazyLibraries
import RefitCore
import Foundation

/// One request's libcurl easy handle and everything that must outlive it: the header list, the error
/// buffer and the response being received.
///
/// Options are set on the caller's task (cheap, non-blocking); afterwards only the multi loop's thread
/// touches the handle and the buffers, so no lock is needed beyond the hand-over in ``CurlMultiLoop``.
final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    let redaction: RedactionContext
    let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let maxResponseBytes: Int

    // Written by libcurl callbacks on the loop thread.
    private var body = Data()
    private var responseHeaders = HTTPHeaders()
    private var exceededSizeCap = false

    // Guarded by the owning loop's lock.
    var isCancelled = false
    var continuation: CheckedContinuation<HTTPResponse, any Error>?

    /// Creates the easy handle and sets every option; throws `.invalidRequest` for unusable input.
    init(request: HTTPRequest, configuration: HTTPClient.Configuration) throws(HTTPError) {
        self.request = request
        let redactor = configuration.redactor
        self.redaction = RedactionContext(redactor: redactor, findSecrets: { Self.secrets(of: request, redactor: redactor) })
        self.maxResponseBytes = max(0, configuration.maxResponseBytes)
        // Redacting costs a parse of the URL: done only when an error needs it.
        var redactedURL: String { configuration.redactor.redact(url: request.url) }

        func invalid(_ detail: String) -> HTTPError {
            HTTPError(code: .invalidRequest, method: request.method, url: redactedURL, isRetryable: false,
                      detail: detail)
        }
        let lowerURL = request.url.lowercased()
        guard lowerURL.hasPrefix("http://") || lowerURL.hasPrefix("https://") else {
            throw invalid("only http and https URLs are supported")
        }
        // Scalars, not Characters: the checks run for every request. A line break scalar is a
        // Character of its own (a Character is a line break when it starts with one).
        func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
            default: false
            }
        }
        guard !request.url.unicodeScalars.contains(where: { isLineBreak($0) || $0 == " " }) else {
            throw invalid("the URL contains spaces or line breaks")
        }
        for field in request.headers {
            guard !field.name.isEmpty, !field.name.unicodeScalars.contains(where: { isLineBreak($0) || $0 == ":" || $0 == " " }),
                  !field.value.unicodeScalars.contains(where: isLineBreak) else {
                throw invalid("header \(field.name.isEmpty ? "with an empty name" : "'\(field.name)'") is malformed")
            }
        }
        guard !request.method.rawValue.isEmpty,
              request.method.rawValue.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-") }) else {
            throw invalid("the method is not a token")
        }
        if let failure = CurlGlobal.failure {
            throw HTTPError(code: .transport, method: request.method, url: redactedURL, isRetryable: true, detail: failure)
        }
        guard let easy = refit_curl_easy_init() else {
            throw HTTPError(code: .transport, method: request.method, url: redactedURL, isRetryable: true,
                            detail: "libcurl could not start a transfer")
        }
        self.easy = easy
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        configure(configuration)
    }

    deinit {
        refit_curl_easy_cleanup(easy)
        if let headerList { refit_curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    private func configure(_ configuration: HTTPClient.Configuration) {
        let opaqueSelf = Unmanaged.passUnretained(self).toOpaque()
        _ = refit_curl_setopt_string(easy, CURLOPT_URL, request.url)
        _ = refit_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = refit_curl_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        _ = refit_curl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = refit_curl_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = refit_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))

        // Timeouts.
        _ = refit_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.curlMilliseconds)
        _ = refit_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS,
                                   (request.timeout ?? configuration.totalTimeout).curlMilliseconds)

        // TLS verification is never optional.
        _ = refit_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = refit_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = configuration.caFile {
            _ = refit_curl_setopt_string(easy, CURLOPT_CAINFO, caFile)
        }
        if let proxy = configuration.proxy {
            _ = refit_curl_setopt_string(easy, CURLOPT_PROXY, proxy)
        }

        // Redirects.
        _ = refit_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, configuration.maxRedirects > 0 ? 1 : 0)
        _ = refit_curl_setopt_long(easy, CURLOPT_MAXREDIRS, max(0, configuration.maxRedirects))

        // Response callbacks and size cap. A declared Content-Length over the cap fails before the body
        // arrives; HEAD is exempt because its Content-Length describes a body that is never sent.
        _ = refit_curl_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, curlWriteBody)
        _ = refit_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, opaqueSelf)
        _ = refit_curl_setopt_write_function(easy, CURLOPT_HEADERFUNCTION, curlWriteHeader)
        _ = refit_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, opaqueSelf)
        if request.method != .head {
            _ = refit_curl_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxResponseBytes))
        }

        if !configuration.userAgent.isEmpty {
            _ = refit_curl_setopt_string(easy, CURLOPT_USERAGENT, configuration.userAgent)
        }

        // Method and body.
        var headers = request.headers
        var removedDefaults: [String] = []
        switch (request.method, request.body) {
        case (.get, nil):
            _ = refit_curl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case (.head, _):
            _ = refit_curl_setopt_long(easy, CURLOPT_NOBODY, 1)
        case (.delete, nil), (.options, nil):
            _ = refit_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        default:
            // POST/PUT/PATCH always carry a Content-Length (0 without a body); other methods with a body too.
            let body = request.body ?? Data()
            _ = refit_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            if body.isEmpty {
                _ = refit_curl_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                body.withUnsafeBytes { raw in
                    _ = refit_curl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
                }
            }
            if request.method != .post {
                _ = refit_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method.rawValue)
            }
            // libcurl would otherwise invent a form content type and a 100-continue round trip.
            for name in ["Content-Type", "Expect"] where !headers.contains(name) {
                removedDefaults.append(name)
            }
        }

        if let sigV4 = request.sigV4 {
            _ = refit_curl_setopt_string(easy, CURLOPT_AWS_SIGV4, "aws:amz:\(sigV4.region):\(sigV4.service)")
            _ = refit_curl_setopt_string(easy, CURLOPT_USERNAME, sigV4.accessKeyId)
            _ = refit_curl_setopt_string(easy, CURLOPT_PASSWORD, sigV4.secretAccessKey)
            // libcurl 7.88 neither sends nor signs the payload hash unless the header is present.
            if !headers.contains("x-amz-content-sha256") {
                let hash = request.body.map { SigV4.payloadHash($0) } ?? SigV4.unsignedPayload
                headers.add("x-amz-content-sha256", hash)
            }
            if let token = sigV4.sessionToken, !headers.contains("x-amz-security-token") {
                headers.add("x-amz-security-token", token)
            }
        }

        // In libcurl's syntax "Name;" sends an empty header and "Name:" suppresses one of its defaults.
        let lines = headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
            + removedDefaults.map { "\($0):" }
        for line in lines {
            headerList = refit_curl_slist_append(headerList, line)
        }
        if let headerList {
            _ = refit_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)
        }
    }

    /// Exact secret strings carried by the request, so they can be blanked out of any text.
    private static func secrets(of request: HTTPRequest, redactor: Redactor) -> [String] {
        var secrets: [String] = []
        for field in request.headers where redactor.isSecretHeader(field.name) {
            secrets.append(field.value)
            // "Bearer abc" / "SharedKey acct:sig": the credential part alone may be echoed too.
            if let space = field.value.firstIndex(of: " ") {
                secrets.append(String(field.value[field.value.index(after: space)...]))
            }
        }
        if let sigV4 = request.sigV4 {
            secrets.append(sigV4.secretAccessKey)
            if let token = sigV4.sessionToken { secrets.append(token) }
        }
        if let mark = request.url.firstIndex(of: "?") {
            for pair in request.url[request.url.index(after: mark)...].split(separator: "&") {
                guard let eq = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<eq]).removingPercentEncoding?.lowercased() ?? ""
                if redactor.secretQueryParameters.contains(name) {
                    let value = String(pair[pair.index(after: eq)...])
                    secrets.append(value)
                    if let decoded = value.removingPercentEncoding, decoded != value { secrets.append(decoded) }
                }
            }
        }
        return secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    // MARK: - Callbacks (loop thread)

    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= maxResponseBytes else {
            exceededSizeCap = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    fileprivate func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // Read as bytes: every byte this looks for is ASCII, and a few lines arrive per request.
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: bytes[..<end])
        if line.starts(with: "HTTP/".utf8) {
            // A new response (after a redirect or 100 Continue): keep only the final block.
            responseHeaders = HTTPHeaders()
            body.removeAll(keepingCapacity: true)
        } else if let first = line.first, Self.isOptionalWhitespace(first) {
            // Obsolete line folding continues the previous value.
            if let last = responseHeaders.fields.last {
                responseHeaders.set(last.name, last.value + " " + Self.withoutWhitespace(line[...]))
            }
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let name = String(decoding: line[..<colon], as: UTF8.self)
            responseHeaders.add(name, Self.withoutWhitespace(line[(colon + 1)...]))
        }
    }

    /// A field value without the spaces and tabs around it (HTTP's optional whitespace, RFC 9110
    /// section 5.6.3), trimmed as bytes: trimming the decoded text Character by Character was a
    /// visible share of a worker's CPU, as every response has several header lines.
    static func withoutWhitespace(_ bytes: Swift.Slice<UnsafeRawBufferPointer>) -> String {
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, isOptionalWhitespace(bytes[start]) { start += 1 }
        while end > start, isOptionalWhitespace(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// A space or a tab: HTTP's optional whitespace, and what starts a folded line.
    static func isOptionalWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    // MARK: - Completion (loop thread)

    /// Turns libcurl's result into a response or a classified error.
    func outcome(of code: CURLcode) -> Result<HTTPResponse, HTTPError> {
        // Redacted only when an error needs it: a success never prints its URL.
        var url: String { redaction.url(request.url) }
        func failure(_ errorCode: HTTPError.Code, retryable: Bool, _ fallback: String) -> Result<HTTPResponse, HTTPError> {
            let message = String(cString: errorBuffer)
            let detail = message.isEmpty ? fallback : message
            return .failure(HTTPError(code: errorCode, method: request.method, url: url, isRetryable: retryable,
                                      detail: redaction.text(detail)))
        }
        if exceededSizeCap || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(HTTPError(code: .responseTooLarge, method: request.method, url: url, isRetryable: false,
                                      detail: "the limit is \(maxResponseBytes) bytes"))
        }
        switch code {
        case CURLE_OK:
            var status = 0
            _ = refit_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            var effective: UnsafeMutablePointer<CChar>?
            _ = refit_curl_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &effective)
            let effectiveURL = effective.map { String(cString: $0) } ?? request.url
            return .success(HTTPResponse(status: status, headers: responseHeaders, body: body,
                                         effectiveURL: effectiveURL, method: request.method, redaction: redaction))
        case CURLE_COULDNT_CONNECT:
            var osErrno = 0
            _ = refit_curl_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno)
            if osErrno == Int(EHOSTUNREACH) || osErrno == Int(ENETUNREACH) {
                return failure(.transport, retryable: true, "the host is unreachable")
            }
            return failure(.connectionRefused, retryable: true, "connection refused")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return failure(.cannotResolveHost, retryable: true, "cannot resolve host")
        case CURLE_OPERATION_TIMEDOUT:
            return failure(.timedOut, retryable: true, "timed out")
        case CURLE_TOO_MANY_REDIRECTS:
            return failure(.tooManyRedirects, retryable: false, "too many redirects")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_USE_SSL_FAILED:
            return failure(.tls, retryable: false, "TLS failure")
        case CURLE_URL_MALFORMAT, CURLE_BAD_FUNCTION_ARGUMENT:
            return failure(.invalidRequest, retryable: false, "malformed request")
        case CURLE_ABORTED_BY_CALLBACK:
            return failure(.cancelled, retryable: false, "cancelled")
        default:
            // Resets, truncated bodies, malformed replies, unsupported responses: the network's fault.
            let name = String(cString: refit_curl_easy_strerror(code))
            return failure(.transport, retryable: true, name)
        }
    }
}

extension Duration {
    /// Milliseconds as libcurl's `long`, at least 1 so a tiny timeout never means "no timeout" (0).
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        let millis = seconds.multipliedReportingOverflow(by: 1000)
        guard !millis.overflow else { return Int.max }
        return max(1, Int(millis.partialValue) + Int(attoseconds / 1_000_000_000_000_000))
    }
}

// libcurl's C callbacks; `userdata` is the unretained CurlTransfer kept alive by the loop's table.

private func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                           _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard length > 0, let data else { return 0 }
    return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private func curlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                             _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard length > 0, let data else { return length }
    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
    return length
}
