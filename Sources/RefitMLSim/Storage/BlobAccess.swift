import Foundation

/// The emulator's only view of blob storage.
///
/// Keeping every blob read, write and SAS decision behind this protocol lets the emulator run on a
/// simple local store today and on an Azure-faithful blob service later without touching job,
/// endpoint or scoring code.
public protocol BlobAccess: Sendable {
    /// Returns the blob's bytes, or nil when it does not exist.
    func read(container: String, blob: String) async throws -> Data?
    /// Creates or replaces a blob.
    func write(container: String, blob: String, data: Data, contentType: String) async throws
    /// A read-only SAS query string (starting with `?`) for one blob; every call yields a fresh token.
    func readSASToken(container: String, blob: String, validFor: Duration) -> String
    /// Whether `token` (with or without the leading `?`) currently grants read access to that blob.
    func isValidReadSAS(_ token: String, container: String, blob: String) -> Bool
    /// Base URL of the account, e.g. `http://127.0.0.1:PORT/refitstore`, without a trailing slash.
    var blobEndpoint: String { get }
    /// Storage account name that connection strings must name.
    var accountName: String { get }
}

/// What a blob store needs to know once the server's address is known.
public struct BlobStoreSettings: Sendable {
    /// Storage account name (the first path segment of the blob endpoint).
    public var accountName: String
    /// Base64 account key; signs the emulator's SAS tokens.
    public var accountKey: String
    /// Account base URL without a trailing slash.
    public var blobEndpoint: String
    /// State folder, when blobs must survive restarts.
    public var stateDirectory: URL?

    public init(accountName: String, accountKey: String, blobEndpoint: String, stateDirectory: URL?) {
        self.accountName = accountName
        self.accountKey = accountKey
        self.blobEndpoint = blobEndpoint
        self.stateDirectory = stateDirectory
    }
}

/// Failures of the local blob stores.
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
