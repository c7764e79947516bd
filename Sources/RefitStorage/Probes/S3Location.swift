import Foundation
import RefitCore
import RefitHTTP

/// AmazonS3 datasets: objects under `bucketName` at the key prefix `folderPath` (plus `fileName`),
/// or one object `key`. Probed with ListObjectsV2 (all pages) and, for a single object, HEAD,
/// signed with SigV4 by libcurl. With `serviceUrl` the store is addressed path-style
/// (`http://host:port/bucket?…`) so S3-compatible stores such as MinIO or moto work.
public struct S3Location: StorageLocation {
    public let credentials: SigV4Credentials
    /// The S3-compatible endpoint (no trailing `/`); nil means AWS (`https://<bucket>.s3.<region>.amazonaws.com`).
    public let serviceURL: String?
    private let http: HTTPClient
    private let batchLimit: Int
    private let pageSize: Int?
    private let observer: ProbeObserver?

    /// - Parameters:
    ///   - batchLimit: how many objects a listing of several slices' common prefix may return before
    ///     the probe lists each slice's prefix separately instead.
    ///   - pageSize: `max-keys` per ListObjectsV2 page (nil: the store's default, 1000).
    public init(credentials: SigV4Credentials, serviceURL: String?, http: HTTPClient, batchLimit: Int = 10_000,
                pageSize: Int? = nil, observer: ProbeObserver? = nil) {
        self.credentials = credentials
        var url = serviceURL?.trimmingCharacters(in: .whitespaces)
        while url?.hasSuffix("/") == true { url?.removeLast() }
        self.serviceURL = url.flatMap { $0.isEmpty ? nil : $0 }
        self.http = http
        self.batchLimit = batchLimit
        self.pageSize = pageSize
        self.observer = observer
    }

    public func probe(_ slices: [Slice], of dataset: Dataset) async -> [Slice: ProbeOutcome] {
        guard let bucket = dataset.location.bucketName, !bucket.isEmpty else {
            return .all(slices, .failed(message: "Dataset '\(dataset.name)' has no bucketName.", retryable: false))
        }
        let me = self
        return await SliceTarget.probeListed(
            slices, of: dataset, limit: batchLimit,
            head: { key in await me.head(bucket: bucket, key: key) },
            lister: { prefix, limit in await me.list(bucket: bucket, prefix: prefix, limit: limit) })
    }

    /// The bucket's base URL (path-style with `serviceUrl`, else virtual-hosted AWS).
    func bucketURL(_ bucket: String) -> String {
        if let serviceURL { return serviceURL + "/" + SigV4.encodePath(bucket) }
        if bucket.contains(".") {
            return "https://s3.\(credentials.region).amazonaws.com/" + SigV4.encodePath(bucket)
        }
        return "https://\(bucket).s3.\(credentials.region).amazonaws.com"
    }

    /// ListObjectsV2 of every page under `prefix`; nil once more than `limit` objects were seen.
    func list(bucket: String, prefix: String, limit: Int?) async -> Result<[DataFingerprint.File]?, ProbeFailure> {
        let operation = "Listing s3://\(bucket)/\(prefix)"
        var files: [DataFingerprint.File] = []
        var token: String?
        repeat {
            var query: [(String, String)] = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            if let pageSize { query.append(("max-keys", String(pageSize))) }
            // libcurl 7.88 signs the query as given: it must already be canonical (checked against AWS SigV4 test vectors; newer curl canonicalizes itself).
            let url = bucketURL(bucket) + (serviceURL == nil && !bucket.contains(".") ? "/" : "")
                + "?" + SigV4.canonicalQuery(query)
            observer?(.list(store: "s3://\(bucket)", prefix: prefix))
            let response: HTTPResponse
            do {
                response = try await http.execute(request(.get, url))
            } catch {
                return .failure(StoreFailure.transport(error, operation: operation))
            }
            guard response.isSuccess else {
                if response.status == 404, StoreFailure.errorCode(in: response.body) == "NoSuchBucket" {
                    return .failure(ProbeFailure("\(operation) failed: the bucket '\(bucket)' does not exist.", retryable: false))
                }
                return .failure(StoreFailure.status(response.status, body: response.body, operation: operation))
            }
            let parsed: S3ListParser.Page?
            do { parsed = try S3ListParser.parse(response.body) } catch { return .failure(ProbeFailure(error.message, retryable: false)) }
            guard let page = parsed else {
                return .failure(ProbeFailure("\(operation) returned a response that is not a ListObjectsV2 result.",
                                             retryable: true))
            }
            files += page.files
            if let limit, files.count > limit { return .success(nil) }
            token = page.isTruncated ? page.nextToken : nil
            if page.isTruncated && token == nil {
                return .failure(ProbeFailure("\(operation) returned a truncated page without a continuation token.",
                                             retryable: true))
            }
        } while token != nil
        return .success(files)
    }

    /// HEAD of one object; nil when it does not exist.
    func head(bucket: String, key: String) async -> Result<DataFingerprint.File?, ProbeFailure> {
        let operation = "Reading s3://\(bucket)/\(key)"
        observer?(.head(store: "s3://\(bucket)", name: key))
        let response: HTTPResponse
        do {
            response = try await http.execute(request(.head, bucketURL(bucket) + "/" + SigV4.encodePath(key)))
        } catch {
            return .failure(StoreFailure.transport(error, operation: operation))
        }
        return ProbeText.file(named: key, fromHead: response, operation: operation)
    }

    private func request(_ method: HTTPMethod, _ url: String) -> HTTPRequest {
        var headers = HTTPHeaders()
        headers.set("x-amz-content-sha256", SigV4.unsignedPayload)
        return HTTPRequest(method: method, url: url, headers: headers, sigV4: credentials, target: "s3")
    }
}

/// Reader of ListObjectsV2's `ListBucketResult`.
enum S3ListParser {
    struct Page { var files: [DataFingerprint.File]; var isTruncated: Bool; var nextToken: String? }

    /// The page, or nil when `data` is not a well-formed `ListBucketResult`.
    static func parse(_ data: Data) throws(XMLStream.Unavailable) -> Page? {
        var files: [DataFingerprint.File] = []
        var isTruncated = false
        var nextToken: String?
        var sawRoot = false
        var current: DataFingerprint.File?
        let wellFormed = try XMLStream.readElements(data, start: { name, parents in
            if name == "ListBucketResult" && parents.isEmpty { sawRoot = true }
            if name == "Contents" { current = DataFingerprint.File(name: "", size: 0) }
        }, end: { name, text, parents in
            let inContents = parents.last == "Contents"
            switch name {
            case "Key" where inContents: current?.name = text
            case "Size" where inContents: current?.size = Int64(text.trimmingCharacters(in: .whitespaces)) ?? 0
            case "ETag" where inContents: current?.etag = ProbeText.etag(text)
            case "LastModified" where inContents: current?.modified = ProbeText.seconds(fromTimestamp: text)
            case "Contents": if let current, !current.name.isEmpty { files.append(current) }; current = nil
            case "IsTruncated" where parents.last == "ListBucketResult": isTruncated = text.lowercased() == "true"
            case "NextContinuationToken" where parents.last == "ListBucketResult": nextToken = text
            default: break
            }
        })
        guard wellFormed, sawRoot else { return nil }
        return Page(files: files, isTruncated: isTruncated, nextToken: nextToken.flatMap { $0.isEmpty ? nil : $0 })
    }
}
