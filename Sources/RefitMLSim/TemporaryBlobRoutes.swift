import Foundation
import Hummingbird

/// Minimal blob HTTP routes until the Azure-faithful blob service is merged in: `PUT` uploads
/// without authentication (temporary), `GET` requires a valid read SAS from the emulator.
public struct TemporaryBlobRoutes: BlobHTTPRoutes {
    public init() {}

    public func respond(method: HTTPRequest.Method, container: String, blob: String, query: String, headers: HTTPFields,
                        body: Data, store: any BlobAccess) async throws(MLServiceError) -> Response {
        switch method {
        case .put:
            do {
                try await store.write(container: container, blob: blob, data: body,
                                      contentType: headers[.contentType] ?? "application/octet-stream")
            } catch {
                throw MLServiceError(status: 500, code: "InternalError", message: "The blob could not be stored.",
                                     detailCode: "BlobWriteFailed", detailMessage: "Writing the blob failed.")
            }
            return Response(status: .created, headers: [.contentLength: "0"])
        case .get, .head:
            guard store.isValidReadSAS(query, container: container, blob: blob) else {
                throw MLServiceError(status: 403, code: "AuthenticationFailed",
                                     message: "Server failed to authenticate the request.",
                                     detailCode: "AuthenticationFailed", detailMessage: "A valid read SAS token is required.")
            }
            let data: Data?
            do { data = try await store.read(container: container, blob: blob) } catch { data = nil }
            guard let data else {
                throw MLServiceError(status: 404, code: "BlobNotFound", message: "The specified blob does not exist.",
                                     detailCode: "BlobNotFound", detailMessage: "The specified blob does not exist.")
            }
            let type = blob.lowercased().hasSuffix(".csv") ? "text/csv" : "application/octet-stream"
            if method == .head {
                return Response(status: .ok, headers: [.contentType: type, .contentLength: String(data.count)])
            }
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        default:
            throw .notFound("NotFound", "This blob operation is not supported by the emulator.")
        }
    }
}
