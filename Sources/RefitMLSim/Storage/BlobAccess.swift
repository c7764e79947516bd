import Foundation

/// The emulator's view of blob storage: what jobs, endpoints and scoring need, and nothing of HTTP.
///
/// Job, endpoint and scoring code depend only on this protocol; the emulator's implementation is the
/// Azure-faithful `BlobService`, whose HTTP face serves the same blobs to clients.
public protocol BlobAccess: Sendable {
    /// Returns the blob's bytes, or nil when it does not exist.
    func read(container: String, blob: String) async throws -> Data?
    /// Creates or replaces a blob, creating its container when needed.
    func write(container: String, blob: String, data: Data, contentType: String?) async throws
    /// A read-only SAS query string (starting with `?`) for one blob; every call yields a fresh token.
    func readSASToken(container: String, blob: String, validFor: Duration) -> String
    /// Whether `token` (with or without the leading `?`) currently grants read access to that blob.
    func isValidReadSAS(_ token: String, container: String, blob: String) -> Bool
    /// Base URL of the account, e.g. `http://127.0.0.1:PORT/refitstore`, without a trailing slash.
    var blobEndpoint: String { get }
    /// Storage account name that connection strings must name.
    var accountName: String { get }
    /// The connection string clients are given (account name, key and blob endpoint).
    var connectionString: String { get }
    /// A long-lived account SAS (with leading `?`) for clients that cannot sign with Shared Key, e.g. curl.
    var accountSASToken: String { get }
}

extension BlobService: BlobAccess {}

/// Failures of the emulator's state handling (state file, start-up).
public struct BlobAccessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Splits `container/path/to/blob` (a leading `/` tolerated) into container and blob name.
public func splitBlobPath(_ relativeLocation: String) -> (container: String, blob: String)? {
    var path = Substring(relativeLocation)
    while path.hasPrefix("/") { path = path.dropFirst() }
    guard let slash = path.firstIndex(of: "/") else { return nil }
    let container = String(path[..<slash])
    let blob = String(path[path.index(after: slash)...])
    guard !container.isEmpty, !blob.isEmpty, !blob.hasSuffix("/") else { return nil }
    let parts = blob.split(separator: "/", omittingEmptySubsequences: false)
    guard !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return nil }
    guard container.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { return nil }
    return (container, blob)
}
