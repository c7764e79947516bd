import CoreMetrics
import Foundation
import Logging
import Synchronization

/// An async HTTP/1.1 client over libcurl.
///
/// One background thread per client runs libcurl's multi interface, so waiting on the network never
/// occupies Swift's cooperative thread pool, and connections are kept alive and reused between requests.
/// TLS verification is always on. Every error is a classified ``HTTPError`` whose text never contains
/// secrets. Share one client across the process; it is cheap to call concurrently.
public final class HTTPClient: Sendable {
    /// Limits and defaults applied to every request.
    public struct Configuration: Sendable {
        /// Time allowed to establish the TCP (and TLS) connection.
        public var connectTimeout: Duration
        /// Time allowed for the whole request, including redirects; a request's `timeout` overrides it.
        public var totalTimeout: Duration
        /// Redirects followed before failing with `.tooManyRedirects`; 0 returns 3xx responses as they are.
        public var maxRedirects: Int
        /// Bodies larger than this fail with `.responseTooLarge` as soon as the limit is crossed.
        public var maxResponseBytes: Int
        /// A PEM bundle of trusted CAs instead of the system store (verification stays on either way).
        public var caFile: String?
        public var userAgent: String
        /// A proxy URL; `""` disables proxies; nil lets libcurl read `http_proxy`/`https_proxy`/`no_proxy`.
        public var proxy: String?
        /// Which headers and query parameters are secret in logs and errors.
        public var redactor: Redactor
        /// Receives one debug line per finished request (redacted); nil logs nothing.
        public var logger: Logger?
        /// Counts requests (`refit_http_requests_total`); nil: `MetricsSystem.factory`.
        public var metricsFactory: (any MetricsFactory)?

        public init(connectTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(60),
                    maxRedirects: Int = 5, maxResponseBytes: Int = 64 * 1024 * 1024, caFile: String? = nil,
                    userAgent: String = "refit", proxy: String? = nil, redactor: Redactor = .standard,
                    logger: Logger? = nil, metricsFactory: (any MetricsFactory)? = nil) {
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.maxRedirects = maxRedirects
            self.maxResponseBytes = maxResponseBytes
            self.caFile = caFile
            self.userAgent = userAgent
            self.proxy = proxy
            self.redactor = redactor
            self.logger = logger
            self.metricsFactory = metricsFactory
        }
    }

    public let configuration: Configuration
    /// Started by the first request, so that a process which makes none never loads libcurl.
    private let startedLoop = Mutex<CurlMultiLoop?>(nil)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    deinit {
        startedLoop.withLock { $0?.stop() }
    }

    private var loop: CurlMultiLoop {
        startedLoop.withLock { started in
            if let started { return started }
            let loop = CurlMultiLoop(name: "refit-http")
            started = loop
            return loop
        }
    }

    /// Sends `request` and returns the response whatever its status; throws only when no complete
    /// response arrived (transport failure, timeout, size cap, cancellation, invalid request).
    public func execute(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let transfer = try CurlTransfer(request: request, configuration: configuration)
        let started = ContinuousClock.now
        configuration.logger?.trace("HTTP request", metadata: [
            "method": "\(request.method)", "url": "\(transfer.redaction.url(request.url))",
            "headers": "\(configuration.redactor.describe(headers: request.headers))",
        ])
        let loop = self.loop
        do {
            let response = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    loop.submit(transfer, continuation: continuation)
                }
            } onCancel: {
                loop.cancel(transfer)
            }
            configuration.logger?.debug("HTTP \(request.method) \(transfer.redaction.url(request.url)) -> \(response.status)",
                                        metadata: ["elapsed": "\(ContinuousClock.now - started)"])
            count(request, statusClass: Self.statusClass(response.status))
            return response
        } catch let error as HTTPError {
            count(request, statusClass: "error")
            configuration.logger?.debug("HTTP \(error)", metadata: ["elapsed": "\(ContinuousClock.now - started)"])
            throw error
        } catch {
            count(request, statusClass: "error")
            // Only HTTPError is ever thrown into the continuation; keep the typed contract regardless.
            throw HTTPError(code: .transport, method: request.method, url: transfer.redaction.url(request.url),
                            isRetryable: true, detail: transfer.redaction.text("\(error)"))
        }
    }

    /// The metric name of the request counter (README, *Metrics*).
    public static let requestsMetric = "refit_http_requests_total"

    /// `2xx`…`5xx` (`1xx` and `3xx` too when they are the final status).
    static func statusClass(_ status: Int) -> String {
        (100...599).contains(status) ? "\(status / 100)xx" : "error"
    }

    private func count(_ request: HTTPRequest, statusClass: String) {
        Counter(label: Self.requestsMetric, dimensions: [("target", request.metricsTarget), ("status_class", statusClass)],
                factory: configuration.metricsFactory ?? MetricsSystem.factory).increment()
    }

    /// Sends `request` and throws a classified ``HTTPError`` for any non-2xx status (see
    /// ``HTTPResponse/checked(now:)``), the usual call for API clients.
    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        try await execute(request).checked()
    }
}
