import Foundation
import MetricsTestKit
import RefitHTTP
import RefitMetricsServer
import Testing

/// The metrics server over real loopback HTTP/1.1, read with Refit's own HTTP client, whose
/// request counter (`refit_http_requests_total`) is checked on the way.
@Suite("Metrics server and HTTP request metrics", .timeLimit(.minutes(1)))
struct MetricsServerTests {
    @Test("addresses: a bare port is loopback; HOST:PORT and [IPv6]:PORT; anything else is refused", arguments: [
        ("9464", MetricsAddress(host: "127.0.0.1", port: 9464)),
        ("0.0.0.0:9464", MetricsAddress(host: "0.0.0.0", port: 9464)),
        ("localhost:1", MetricsAddress(host: "localhost", port: 1)),
        ("[::1]:9464", MetricsAddress(host: "::1", port: 9464)),
        ("", nil), ("x", nil), (":9464", nil), ("127.0.0.1:", nil), ("127.0.0.1:65536", nil), ("127.0.0.1:-1", nil),
        ("[::1]9464", nil), ("a b:1", nil),
    ] as [(String, MetricsAddress?)])
    func addresses(text: String, expected: MetricsAddress?) {
        #expect(MetricsAddress(parsing: text) == expected)
    }

    @Test("/metrics, /status and /healthz answer; the client counts each call by target and status class")
    func endpoints() async throws {
        let unhealthy = UnhealthySwitch()
        let server = MetricsServer(address: MetricsAddress(host: "127.0.0.1", port: 0), endpoints: MetricsEndpoints(
            metrics: { "# TYPE refit_up gauge\nrefit_up 1\n" },
            status: { .success(#"{"pipelines": []}"#) },
            unhealthyReason: { unhealthy.reason }))
        let running = Task { try await server.run() }
        defer { running.cancel() }
        let port = try #require(await server.listening())

        let metrics = TestMetrics()
        let client = HTTPClient(configuration: HTTPClient.Configuration(metricsFactory: metrics))
        let base = "http://127.0.0.1:\(port)"
        let scrape = try await client.execute(HTTPRequest(url: base + "/metrics", target: "metrics-server"))
        #expect(scrape.status == 200 && scrape.text == "# TYPE refit_up gauge\nrefit_up 1\n")
        #expect(scrape.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let status = try await client.execute(HTTPRequest(url: base + "/status?sig=secret", target: "metrics-server"))
        #expect(status.status == 200 && status.text == "{\"pipelines\": []}\n")
        #expect(try await client.execute(HTTPRequest(url: base + "/healthz")).status == 200)
        unhealthy.reason = "The worker loop is not running."
        let sick = try await client.execute(HTTPRequest(url: base + "/healthz"))
        #expect(sick.status == 503 && sick.text == "The worker loop is not running.\n")
        #expect(try await client.execute(HTTPRequest(url: base + "/nothing", target: "metrics-server")).status == 404)
        await #expect(throws: HTTPError.self) { try await client.execute(HTTPRequest(url: "http://127.0.0.1:1/", target: "closed")) }

        let name = HTTPClient.requestsMetric
        #expect(metrics.counterTotal(label: name, dimensions: [("target", "metrics-server"), ("status_class", "2xx")]) == 2)
        #expect(metrics.counterTotal(label: name, dimensions: [("target", "metrics-server"), ("status_class", "4xx")]) == 1)
        // Without a logical target the host names it; never the URL (its query may carry a SAS token).
        #expect(metrics.counterTotal(label: name, dimensions: [("target", "127.0.0.1"), ("status_class", "2xx")]) == 1)
        #expect(metrics.counterTotal(label: name, dimensions: [("target", "127.0.0.1"), ("status_class", "5xx")]) == 1)
        #expect(metrics.counterTotal(label: name, dimensions: [("target", "closed"), ("status_class", "error")]) == 1)
        #expect(metrics.counters.allSatisfy { counter in counter.dimensions.allSatisfy { !$0.1.contains("sig=") && !$0.1.contains("/") } })
    }

    @Test("an address in use ends run() with one sentence, and listening() returns nil")
    func addressInUse() async throws {
        let first = MetricsServer(address: MetricsAddress(host: "127.0.0.1", port: 0),
                                  endpoints: MetricsEndpoints(metrics: { "" }, status: { .success("{}") }, unhealthyReason: { nil }))
        let running = Task { try await first.run() }
        defer { running.cancel() }
        let port = try #require(await first.listening())
        let second = MetricsServer(address: MetricsAddress(host: "127.0.0.1", port: port),
                                   endpoints: MetricsEndpoints(metrics: { "" }, status: { .success("{}") }, unhealthyReason: { nil }))
        let error = await #expect(throws: MetricsServerError.self) { try await second.run() }
        #expect(error?.message == "The metrics address 127.0.0.1:\(port) is already in use; choose another with --metrics-address.")
        #expect(await second.listening() == nil)
    }
}

/// A health answer a test can flip.
final class UnhealthySwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    var reason: String? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
