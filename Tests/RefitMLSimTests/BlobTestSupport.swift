import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import RefitMLSim

/// Runs a Hummingbird server with only the Blob service's routes on a free loopback port for the
/// duration of `body`.
func withBlobServer(store: BlobStore = BlobStore(),
                    _ body: @Sendable (BlobService) async throws -> Void) async throws {
    let service = BlobService(account: try StorageAccount(), store: store)
    let router = Router()
    service.addRoutes(to: router)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = Application(router: router,
                          configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
                          onServerRunning: { channel in
                              continuation.yield(channel.localAddress?.port ?? 0)
                              continuation.finish()
                          })
    let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: app.logger))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try #require(port > 0)
        service.setListeningAddress(port: port)
        do {
            try await body(service)
        } catch {
            await services.triggerGracefulShutdown()
            throw error
        }
        await services.triggerGracefulShutdown()
    }
}

/// An HTTP reply as the tests inspect it.
struct BlobHTTPReply: Sendable {
    var status: Int
    var headers: [String: String]  // names lower-cased
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A minimal Blob REST client over URLSession that signs with Shared Key (or sends a SAS instead).
struct BlobTestClient: Sendable {
    let service: BlobService
    let session: URLSession

    init(_ service: BlobService) {
        self.service = service
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        self.session = URLSession(configuration: configuration)
    }

    enum Auth: Sendable {
        case sharedKey(StorageAccount)
        case sas(String)
        case anonymous
    }

    /// Sends `method` to `/<account><path>?<query>`; `path` and `query` as they go on the wire.
    func send(_ method: String, _ path: String, query: String? = nil, headers: [String: String] = [:],
              body: Data? = nil, auth: Auth? = nil) async throws -> BlobHTTPReply {
        let auth = auth ?? .sharedKey(service.account)
        var rawQuery = query
        if case .sas(let token) = auth {
            let sas = token.hasPrefix("?") ? String(token.dropFirst()) : token
            rawQuery = rawQuery.map { "\($0)&\(sas)" } ?? sas
        }
        let rawPath = "/\(service.accountName)\(path)"
        var url = "http://127.0.0.1:\(service.account.port)\(rawPath)"
        if let rawQuery { url += "?\(rawQuery)" }
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        var allHeaders = headers
        allHeaders["x-ms-date"] = allHeaders["x-ms-date"] ?? BlobDates.rfc1123(Date())
        allHeaders["x-ms-version"] = allHeaders["x-ms-version"] ?? "2025-11-05"
        if let body {
            allHeaders["Content-Length"] = String(body.count)
            allHeaders["Content-Type"] = allHeaders["Content-Type"] ?? "application/octet-stream"
            request.httpBody = body
        }
        if case .sharedKey(let account) = auth {
            let head = BlobRequestHead(method: method, rawPath: rawPath, rawQuery: rawQuery,
                                       headers: allHeaders.map { ($0.key, $0.value) })
            allHeaders["Authorization"] = SharedKeyAuthorizer(account: account).authorizationHeader(for: head)
        }
        for (name, value) in allHeaders {
            request.setValue(value, forHTTPHeaderField: name)
        }
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var replyHeaders: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String {
                replyHeaders[name.lowercased()] = value
            }
        }
        return BlobHTTPReply(status: http.statusCode, headers: replyHeaders, body: data)
    }
}
