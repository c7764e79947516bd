import Foundation
import RefitHTTP

/// What Get Blob Properties and List Blobs report about a blob.
public struct BlobProperties: Hashable, Sendable {
    public var name: String
    public var size: Int64
    public var etag: String?
    public var lastModified: String?
    public init(name: String, size: Int64, etag: String? = nil, lastModified: String? = nil) {
        self.name = name; self.size = size; self.etag = etag; self.lastModified = lastModified
    }
}

/// The Azure Blob REST operations Refit needs, signed with Shared Key: staging inputs,
/// probing slices and reading evaluation outputs.
public struct AzureBlobClient: Sendable {
    public let account: AzureStorageAccount
    let http: HTTPClient

    public init(account: AzureStorageAccount, http: HTTPClient) {
        self.account = account
        self.http = http
    }

    /// Create Container; an existing container (409) is fine.
    public func createContainer(_ container: String) async throws(StorageError) {
        let response = try await perform(.put, url: account.url(container: container) + "?restype=container",
                                          operation: "Creating container '\(container)'", allow: [409])
        _ = response
    }

    /// Put Blob (a block blob in one request), creating or replacing it.
    public func putBlob(container: String, blob: String, data: Data, contentType: String = "application/octet-stream")
        async throws(StorageError)
    {
        var headers = HTTPHeaders()
        headers.set("x-ms-blob-type", "BlockBlob")
        headers.set("Content-Type", contentType)
        _ = try await perform(.put, url: account.url(container: container, blob: blob), headers: headers, body: data,
                              operation: "Uploading blob '\(container)/\(blob)'")
    }

    /// Get Blob: the whole content.
    public func getBlob(container: String, blob: String) async throws(StorageError) -> Data {
        try await perform(.get, url: account.url(container: container, blob: blob),
                          operation: "Reading blob '\(container)/\(blob)'").body
    }

    /// Get Blob Properties; nil when the blob does not exist.
    public func properties(container: String, blob: String) async throws(StorageError) -> BlobProperties? {
        let response = try await perform(.head, url: account.url(container: container, blob: blob),
                                         operation: "Reading properties of '\(container)/\(blob)'", allow: [404])
        if response.status == 404 { return nil }
        return BlobProperties(name: blob, size: Int64(response.headers["Content-Length"] ?? "") ?? 0,
                              etag: response.headers["ETag"], lastModified: response.headers["Last-Modified"])
    }

    /// List Blobs under `prefix` (all pages).
    public func listBlobs(container: String, prefix: String? = nil) async throws(StorageError) -> [BlobProperties] {
        var result: [BlobProperties] = []
        var marker: String?
        repeat {
            var url = account.url(container: container) + "?restype=container&comp=list"
            if let prefix { url += "&prefix=\(BlobPath.encodeQueryValue(prefix))" }
            if let marker { url += "&marker=\(BlobPath.encodeQueryValue(marker))" }
            let response = try await perform(.get, url: url, operation: "Listing blobs in '\(container)'")
            let parsed: BlobListParser.Page?
            do { parsed = try BlobListParser.parse(response.body) } catch { throw StorageError(.configuration, error.message) }
            guard let page = parsed else {
                throw StorageError(.malformedResponse, "Listing blobs in '\(container)' returned unreadable XML.")
            }
            result += page.blobs
            // A service that hands back the marker it was given would page forever.
            if let next = page.nextMarker, next == marker {
                throw StorageError(.malformedResponse, "Listing blobs in '\(container)' returned the same NextMarker twice.")
            }
            marker = page.nextMarker
        } while marker != nil
        return result
    }

    /// A read-only SAS URL of a blob, valid until `expiry`.
    public func readURL(container: String, blob: String, expiry: Date) -> (baseLocation: String, token: String) {
        (account.blobEndpoint + "/", BlobSAS.blobToken(account: account, container: container, blob: blob, expiry: expiry))
    }

    private func perform(_ method: HTTPMethod, url: String, headers: HTTPHeaders = [:], body: Data? = nil,
                         operation: String, allow: Set<Int> = []) async throws(StorageError) -> HTTPResponse {
        var request = HTTPRequest(method: method, url: url, headers: headers, body: body, target: "blob")
        if method == .put, body == nil { request.headers.set("Content-Length", "0") }
        try SharedKey.sign(&request, account: account)
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch {
            throw StorageError.from(error, operation: operation)
        }
        if response.isSuccess || allow.contains(response.status) { return response }
        do {
            _ = try response.checked()
        } catch {
            throw StorageError.from(error, operation: operation)
        }
        return response
    }
}

/// Minimal reader of List Blobs' `EnumerationResults` XML.
enum BlobListParser {
    struct Page { var blobs: [BlobProperties]; var nextMarker: String? }

    /// The page, or nil when `data` is not a well-formed, closed `EnumerationResults`.
    static func parse(_ data: Data) throws(XMLStream.Unavailable) -> Page? {
        var blobs: [BlobProperties] = []
        var nextMarker: String?
        var sawRoot = false
        var closedRoot = false
        var current: BlobProperties?
        let wellFormed = try XMLStream.readElements(data, start: { name, _ in
            if name == "EnumerationResults" { sawRoot = true }
            if name == "Blob" { current = BlobProperties(name: "", size: 0) }
        }, end: { name, text, parents in
            switch name {
            case "Name" where parents.last == "Blob": current?.name = text
            case "Content-Length": current?.size = Int64(text) ?? 0
            case "Etag": current?.etag = text
            case "Last-Modified": current?.lastModified = text
            case "Blob": if let current { blobs.append(current) }; current = nil
            case "NextMarker" where parents.last == "EnumerationResults": nextMarker = text
            case "EnumerationResults" where parents.isEmpty: closedRoot = true
            default: break
            }
        })
        guard wellFormed, sawRoot, closedRoot else { return nil }
        return Page(blobs: blobs, nextMarker: nextMarker?.isEmpty == false ? nextMarker : nil)
    }
}
