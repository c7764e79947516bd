import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// What the metrics server answers, provided by the process that runs it (the server knows
/// nothing of the worker, the store or the metrics backend).
public struct MetricsEndpoints: Sendable {
    /// The Prometheus text exposition for `/metrics`.
    public var metrics: @Sendable () async -> String
    /// The `/status` JSON document, or an error sentence (served as 500).
    public var status: @Sendable () async -> Result<String, MetricsServerError>
    /// `/healthz`: nil while healthy, else why not (served as 503).
    public var unhealthyReason: @Sendable () async -> String?

    public init(metrics: @escaping @Sendable () async -> String, status: @escaping @Sendable () async -> Result<String, MetricsServerError>,
                unhealthyReason: @escaping @Sendable () async -> String?) {
        self.metrics = metrics
        self.status = status
        self.unhealthyReason = unhealthyReason
    }
}

/// `/metrics`, `/status` and `/healthz` over HTTP/1.1 (Hummingbird), as a swift-service-lifecycle
/// `Service`: `refit run --metrics-address` runs it beside the worker in one `ServiceGroup`.
/// `listening()` returns once the socket is bound, so the worker starts no work before the
/// address is known to be usable; a bind failure ends `run()` with a `MetricsServerError`.
public struct MetricsServer: Service {
    public let address: MetricsAddress
    let endpoints: MetricsEndpoints
    let logger: Logger
    private let readiness = Readiness()

    public init(address: MetricsAddress, endpoints: MetricsEndpoints, logger: Logger = Logger(label: "refit.metrics")) {
        self.address = address
        self.endpoints = endpoints
        self.logger = logger
    }

    /// The bound port once the server listens; nil if it stopped (or failed) before. Any number
    /// of callers may wait.
    public func listening() async -> Int? {
        await readiness.wait()
    }

    public func run() async throws {
        let router = Router()
        let endpoints = self.endpoints
        router.get("metrics") { _, _ in
            Self.text(await endpoints.metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("status") { _, _ in
            switch await endpoints.status() {
            case .success(let json): Self.text(json + "\n", contentType: "application/json")
            case .failure(let error): Self.text(error.message + "\n", status: .internalServerError)
            }
        }
        router.get("healthz") { _, _ in
            if let reason = await endpoints.unhealthyReason() {
                return Self.text(reason + "\n", status: .serviceUnavailable)
            }
            return Self.text("ok\n")
        }
        let readiness = self.readiness
        let address = self.address
        // Hummingbird logs a routine shutdown's cancellation as an error; only real trouble is ours to report.
        var quiet = logger
        quiet.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: "refit"),
                              onServerRunning: { channel in await readiness.listening(channel.localAddress?.port ?? address.port) },
                              logger: quiet)
        do {
            try await app.run()
            await readiness.stopped()
        } catch {
            await readiness.stopped()
            throw Self.sentence(error, address: address)
        }
    }

    /// A bind failure as one sentence for the operator; other errors as they are.
    static func sentence(_ error: any Error, address: MetricsAddress) -> any Error {
        switch error {
        case let error as IOError where error.errnoCode == 98 || error.errnoCode == 48:
            return MetricsServerError(message: "The metrics address \(address) is already in use; choose another with --metrics-address.")
        case let error as IOError:
            return MetricsServerError(message: "Cannot listen on the metrics address \(address): \(error.description).")
        case let error as SocketAddressError:
            return MetricsServerError(message: "Cannot listen on the metrics address \(address): \(error).")
        default:
            return error
        }
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
