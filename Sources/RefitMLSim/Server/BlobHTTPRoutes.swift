import Foundation
import Hummingbird

/// The blob store's HTTP face, served under `/{accountName}/{container}/{blob}`.
///
/// A seam: the emulator routes these requests here, so a fuller blob service can replace the
/// temporary implementation without touching the emulator's own routes.
public protocol BlobHTTPRoutes: Sendable {
    /// Answers one blob request; `query` is the raw query string without `?`.
    func respond(method: HTTPRequest.Method, container: String, blob: String, query: String, headers: HTTPFields,
                 body: Data, store: any BlobAccess) async throws(MLServiceError) -> Response
}
