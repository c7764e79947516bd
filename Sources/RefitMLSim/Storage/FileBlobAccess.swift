import Foundation

/// Blob store under `<state>/blobs/<container>/<blob>`, so uploaded data and trained models
/// survive an emulator restart.
public final class FileBlobAccess: BlobAccess, @unchecked Sendable {
    public let blobEndpoint: String
    public let accountName: String
    private let root: URL
    private let sas: EmulatorSAS

    public init(settings: BlobStoreSettings, root: URL, now: @escaping @Sendable () -> Date = { Date() }) {
        self.blobEndpoint = settings.blobEndpoint
        self.accountName = settings.accountName
        self.root = root
        self.sas = EmulatorSAS(accountName: settings.accountName, accountKey: settings.accountKey, now: now)
    }

    private func fileURL(container: String, blob: String) throws -> URL {
        guard let parts = splitBlobPath("\(container)/\(blob)") else {
            throw BlobAccessError("The blob name '\(container)/\(blob)' is not a valid container/path.")
        }
        var url = root.appendingPathComponent(parts.container, isDirectory: true)
        for component in parts.blob.split(separator: "/") {
            url.appendPathComponent(String(component))
        }
        return url
    }

    public func read(container: String, blob: String) async throws -> Data? {
        let url = try fileURL(container: container, blob: blob)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return nil
        }
        return try Data(contentsOf: url)
    }

    public func write(container: String, blob: String, data: Data, contentType: String) async throws {
        let url = try fileURL(container: container, blob: blob)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    public func readSASToken(container: String, blob: String, validFor: Duration) -> String {
        sas.readToken(container: container, blob: blob, validFor: validFor)
    }

    public func isValidReadSAS(_ token: String, container: String, blob: String) -> Bool {
        sas.isValidRead(token, container: container, blob: blob)
    }
}
