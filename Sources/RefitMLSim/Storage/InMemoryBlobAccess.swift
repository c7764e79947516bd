import Foundation

/// Blob store held in memory: the default when the emulator runs without `--state`, and in tests.
public final class InMemoryBlobAccess: BlobAccess, @unchecked Sendable {
    public let blobEndpoint: String
    public let accountName: String
    private let sas: EmulatorSAS
    private let lock = NSLock()
    private var blobs: [String: (data: Data, contentType: String)] = [:]

    public init(settings: BlobStoreSettings, now: @escaping @Sendable () -> Date = { Date() }) {
        self.blobEndpoint = settings.blobEndpoint
        self.accountName = settings.accountName
        self.sas = EmulatorSAS(accountName: settings.accountName, accountKey: settings.accountKey, now: now)
    }

    public func read(container: String, blob: String) async throws -> Data? {
        lock.withLock { blobs["\(container)/\(blob)"]?.data }
    }

    public func write(container: String, blob: String, data: Data, contentType: String) async throws {
        lock.withLock { blobs["\(container)/\(blob)"] = (data, contentType) }
    }

    public func readSASToken(container: String, blob: String, validFor: Duration) -> String {
        sas.readToken(container: container, blob: blob, validFor: validFor)
    }

    public func isValidReadSAS(_ token: String, container: String, blob: String) -> Bool {
        sas.isValidRead(token, container: container, blob: blob)
    }
}
