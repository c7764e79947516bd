import Foundation
import RefitCore
import RefitHTTP

/// AzureBlob datasets: `folderPath` is `container/path`; blobs are listed with List Blobs (all
/// pages) under the slice's prefix, and a single named blob is read with Get Blob Properties.
/// Authenticates with the account key of a connection string (Shared Key) or with the SAS of an
/// `AzureStorageSas` linked service. Fingerprint names are `container/blob`, in the same
/// coordinates as `folderPath`.
public struct AzureBlobLocation: StorageLocation {
    /// How requests are authorized.
    public enum Credentials: Sendable {
        /// Shared Key with the account of a connection string.
        case sharedKey(AzureStorageAccount)
        /// A SAS URI of the account or of a container (`https://acct.blob.core.windows.net[/container]?sv=…&sig=…`).
        case sas(uri: String)
    }

    private let credentials: Credentials
    private let http: HTTPClient
    private let batchLimit: Int
    private let pageSize: Int?
    private let observer: ProbeObserver?

    /// - Parameters:
    ///   - batchLimit: how many blobs a listing of several slices' common prefix may return before
    ///     the probe lists each slice's prefix separately.
    ///   - pageSize: `maxresults` per List Blobs page (nil: the service's default, 5000).
    public init(credentials: Credentials, http: HTTPClient, batchLimit: Int = 10_000, pageSize: Int? = nil,
                observer: ProbeObserver? = nil) {
        self.credentials = credentials
        self.http = http
        self.batchLimit = batchLimit
        self.pageSize = pageSize
        self.observer = observer
    }

    public func probe(_ slices: [Slice], of dataset: Dataset) async -> [Slice: ProbeOutcome] {
        let me = self
        return await SliceTarget.probeListed(
            slices, of: dataset, limit: batchLimit,
            scope: { String($0.prefix { $0 != "/" }) },
            precheck: { target in
                target.folder.isEmpty
                    ? ProbeFailure("Dataset '\(dataset.name)' has no container: folderPath must start with one.", retryable: false)
                    : nil
            },
            head: { name in await me.properties(name) },
            lister: { prefix, limit in await me.list(prefix, limit: limit) })
    }

    /// `container/rest` split at the first `/`.
    private static func split(_ name: String) -> (container: String, rest: String) {
        guard let slash = name.firstIndex(of: "/") else { return (name, "") }
        return (String(name[..<slash]), String(name[name.index(after: slash)...]))
    }

    /// List Blobs of every page under `fullPrefix` (`container/prefix`); nil once past `limit`.
    func list(_ fullPrefix: String, limit: Int?) async -> Result<[DataFingerprint.File]?, ProbeFailure> {
        let (container, prefix) = Self.split(fullPrefix)
        let operation = "Listing blobs under \(fullPrefix)"
        var files: [DataFingerprint.File] = []
        var marker: String?
        repeat {
            var query = "restype=container&comp=list"
            if !prefix.isEmpty { query += "&prefix=\(BlobPath.encodeQueryValue(prefix))" }
            if let marker { query += "&marker=\(BlobPath.encodeQueryValue(marker))" }
            if let pageSize { query += "&maxresults=\(pageSize)" }
            observer?(.list(store: "azure://\(container)", prefix: prefix))
            let response: HTTPResponse
            switch await send(.get, container: container, blob: nil, query: query, operation: operation) {
            case .failure(let failure): return .failure(failure)
            case .success(let r): response = r
            }
            guard response.isSuccess else {
                if response.status == 404 {
                    return .failure(ProbeFailure("\(operation) failed: the container '\(container)' does not exist.",
                                                 retryable: false))
                }
                return .failure(StoreFailure.status(response.status, body: response.body, operation: operation))
            }
            let parsed: BlobListParser.Page?
            do { parsed = try BlobListParser.parse(response.body) } catch { return .failure(ProbeFailure(error.message, retryable: false)) }
            guard let page = parsed else {
                return .failure(ProbeFailure("\(operation) returned a response that is not a blob listing.", retryable: true))
            }
            files += page.blobs.map { blob in
                DataFingerprint.File(name: container + "/" + blob.name, size: blob.size, etag: ProbeText.etag(blob.etag),
                                     modified: blob.lastModified.flatMap(ProbeText.seconds(fromTimestamp:)))
            }
            if let limit, files.count > limit { return .success(nil) }
            marker = page.nextMarker
        } while marker != nil
        return .success(files)
    }

    /// Get Blob Properties of `container/blob`; nil when it does not exist.
    func properties(_ fullName: String) async -> Result<DataFingerprint.File?, ProbeFailure> {
        let (container, blob) = Self.split(fullName)
        let operation = "Reading blob \(fullName)"
        observer?(.head(store: "azure://\(container)", name: blob))
        switch await send(.head, container: container, blob: blob, query: nil, operation: operation) {
        case .failure(let failure): return .failure(failure)
        case .success(let response):
            return ProbeText.file(named: fullName, fromHead: response, operation: operation)
        }
    }

    private func send(_ method: HTTPMethod, container: String, blob: String?, query: String?,
                      operation: String) async -> Result<HTTPResponse, ProbeFailure> {
        var request: HTTPRequest
        switch credentials {
        case .sharedKey(let account):
            var url = account.url(container: container, blob: blob)
            if let query { url += "?" + query }
            request = HTTPRequest(method: method, url: url, target: "blob")
            do {
                try SharedKey.sign(&request, account: account)
            } catch {
                return .failure(ProbeFailure("\(operation) failed: \(error.message)", retryable: false))
            }
        case .sas(let uri):
            guard let url = Self.sasURL(uri, container: container, blob: blob, query: query) else {
                return .failure(ProbeFailure("\(operation) failed: the sasUri is not a URL with a SAS token.", retryable: false))
            }
            request = HTTPRequest(method: method, url: url, target: "blob")
            request.headers.set("x-ms-version", SharedKey.version)
        }
        do {
            return .success(try await http.execute(request))
        } catch {
            return .failure(StoreFailure.transport(error, operation: operation))
        }
    }

    /// The request URL under a SAS URI: the URI's path (minus a trailing segment naming the same
    /// container) + `/container[/blob]`, then `query`, then the token.
    static func sasURL(_ uri: String, container: String, blob: String?, query: String?) -> String? {
        guard let question = uri.firstIndex(of: "?") else { return nil }
        var base = String(uri[..<question])
        let token = String(uri[uri.index(after: question)...])
        guard !token.isEmpty, token.contains("sig="), let parsed = URL(string: base), parsed.host != nil else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        let segments = parsed.path.split(separator: "/")
        if let last = segments.last, last == container[...] || last == BlobPath.encode(container)[...] {
            base.removeLast(last.count)
            while base.hasSuffix("/") { base.removeLast() }
        }
        var url = base + "/" + BlobPath.encode(container)
        if let blob { url += "/" + BlobPath.encode(blob) }
        url += "?" + (query.map { $0 + "&" } ?? "") + token
        return url
    }
}
