import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The Azure Blob Storage service of the emulator, path-style like Azurite (`{blobEndpoint}/{container}/{blob}`):
/// Create/Delete Container, Get Container Properties, Put Blob (block blobs), Get Blob (with ranges),
/// Get Blob Properties, Delete Blob and List Blobs, authorized by Shared Key, service SAS or account SAS, answering
/// in Azure's headers and XML so the official Azure SDKs work against it unchanged.
///
/// It also gives the rest of the emulator direct access to the same blobs (`read`, `write`) and mints the
/// read SAS tokens that Azure ML hands out for outputs.
public final class BlobService: Sendable {
    /// The x-ms-version answered when a request names none.
    public static let defaultVersion = "2025-11-05"

    public let store: BlobStore
    /// Largest Put Blob body accepted (Azure allows far more; this emulator keeps blobs in memory).
    public let maxUploadBytes: Int
    private let accountBox: LockedValue<StorageAccount>
    private let lastExpiry = LockedValue(Date.distantPast)

    /// - Parameters:
    ///   - account: name and key; its host/port may be filled in later by `setListeningAddress`.
    ///   - store: the blobs, in memory or persisted.
    public init(account: StorageAccount, store: BlobStore, maxUploadBytes: Int = 256 * 1024 * 1024) {
        self.accountBox = LockedValue(account)
        self.store = store
        self.maxUploadBytes = maxUploadBytes
    }

    /// The account, with the address last set.
    public var account: StorageAccount { accountBox.value }
    public var accountName: String { account.name }
    /// `http://HOST:PORT/<account>`; correct once `setListeningAddress` has been called with the bound port.
    public var blobEndpoint: String { account.blobEndpoint }
    /// The connection string for clients; as `blobEndpoint`, correct once the port is known.
    public var connectionString: String { account.connectionString }

    /// Records where the server listens (call it from `onServerRunning` when binding port 0).
    public func setListeningAddress(host: String = "127.0.0.1", port: Int) {
        accountBox.update {
            $0.host = host
            $0.port = port
        }
    }

    // MARK: Direct access for the rest of the emulator

    /// The blob's content, or nil when the container or blob does not exist.
    public func read(container: String, blob: String) async throws -> Data? {
        do {
            return try await store.getBlob(container: container, name: blob).data
        } catch let error as BlobError where error.code == "ContainerNotFound" || error.code == "BlobNotFound" {
            return nil
        }
    }

    /// Stores a block blob, creating the container first when needed, so the emulator's own writers (job
    /// outputs, models) need no separate setup step.
    public func write(container: String, blob: String, data: Data, contentType: String?) async throws {
        if (try? await store.containerProperties(container)) == nil {
            do {
                try await store.createContainer(container)
            } catch let error as BlobError where error.code == "ContainerAlreadyExists" {
                // Created concurrently: fine.
            }
        }
        try await store.putBlob(container: container, name: blob, data: data,
                                settings: BlobContentSettings(contentType: contentType))
    }

    /// A read-only blob SAS (`sr=b&sp=r`) valid from now for about `validFor`, as a query string with leading
    /// `?`. Every call yields a different token: `se` has whole seconds, so each expiry is at least one second
    /// after the previous one (Azure ML hands out a fresh SAS per status poll; clients must not cache them).
    public func readSASToken(container: String, blob: String, validFor: Duration) -> String {
        let seconds = Double(validFor.components.seconds) + Double(validFor.components.attoseconds) / 1e18
        var expiry = Date().addingTimeInterval(seconds)
        if seconds > 0 {  // a deliberately expired token (tests) needs no uniqueness
            lastExpiry.update { last in
                let whole = expiry.timeIntervalSince1970.rounded(.down)
                expiry = Date(timeIntervalSince1970: max(whole, last.timeIntervalSince1970 + 1))
                last = expiry
            }
        }
        return "?" + SASToken.sign(account: account, container: container, blob: blob, permissions: "r",
                                   expiry: expiry)
    }

    /// The expiry of the account SAS handed to clients without a Shared Key signer: far enough to never
    /// matter for a local emulator, fixed so the token stays the same across restarts with the same key.
    public static let accountSASExpiry = Date(timeIntervalSince1970: 4_102_444_799)  // 2099-12-31T23:59:59Z

    /// An account SAS for the Blob service (`ss=b&srt=sco&sp=rwdlac`) with leading `?`: lets plain HTTP
    /// clients such as curl create containers and upload, list, read and delete blobs.
    public var accountSASToken: String {
        "?" + SASToken.signAccount(account: account, permissions: "rwdlac", resourceTypes: "sco",
                                   expiry: Self.accountSASExpiry)
    }

    /// Whether `token` (with or without `?`) currently lets a client read this blob.
    public func isValidReadSAS(_ token: String, container: String, blob: String) -> Bool {
        guard let sas = SASToken(query: token) else { return false }
        return (try? sas.verify(account: account, container: container, blob: blob, anyOf: [.read])) != nil
    }

    // MARK: Routes

    /// Adds the service's routes under `/<accountName>` to `router`.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let methods: [HTTPRequest.Method] = [.get, .head, .put, .delete]
        for method in methods {
            for path in ["/\(accountName)", "/\(accountName)/**"] {
                router.on(RouterPath(path), method: method) { [self] request, context in
                    try await self.respond(to: request, context: context)
                }
            }
        }
    }

    /// Authorizes and answers one Blob request (the emulator's own router calls this for `/<account>/…`).
    func respond(to request: Request, context: some RequestContext) async throws -> Response {
        var headers: [(name: String, value: String)] = []
        for field in request.headers {
            headers.append((field.name.canonicalName, field.value))
        }
        let head = BlobRequestHead(method: request.method.rawValue, rawPath: request.uri.path,
                                   rawQuery: request.uri.query, headers: headers)
        let clientIP = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress
        let limit = maxUploadBytes
        var request = request
        let reply = await handle(head, clientIP: clientIP) {
            let buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readableBytesView)
        }
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let fieldName = HTTPField.Name(name) {
                fields.append(HTTPField(name: fieldName, value: value))
            }
        }
        let isHead = request.method == .head
        let body = isHead || reply.body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body))
        return Response(status: HTTPResponse.Status(code: reply.status), headers: fields, body: body)
    }

    // MARK: Operations (HTTP-agnostic)

    struct Reply {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: Data
    }

    private enum Operation {
        case createContainer, deleteContainer, containerProperties, listBlobs
        case putBlob, getBlob, blobProperties, deleteBlob, putBlock, putBlockList, listContainers
    }

    /// Authorizes and performs one request. `body` is read only by operations that take one.
    func handle(_ head: BlobRequestHead, clientIP: String?, body: () async throws -> Data) async -> Reply {
        let requestID = UUID().uuidString.lowercased()
        var common: [(name: String, value: String)] = [
            ("x-ms-request-id", requestID),
            ("x-ms-version", head.header("x-ms-version") ?? Self.defaultVersion),
            ("Date", BlobDates.rfc1123(Date())),
        ]
        if let clientRequestID = head.header("x-ms-client-request-id") {
            common.append(("x-ms-client-request-id", clientRequestID))
        }
        do {
            var reply = try await perform(head, clientIP: clientIP, body: body)
            reply.headers = common + reply.headers
            return reply
        } catch let error as BlobError {
            return errorReply(error, head: head, common: common, requestID: requestID)
        } catch is NIOTooManyBytesError {
            let error = BlobError(status: 413, code: "RequestBodyTooLarge",
                                  message: "The request body is too large and exceeds the maximum permissible limit.")
            return errorReply(error, head: head, common: common, requestID: requestID)
        } catch {
            let error = BlobError.storageFailure("The request could not be read.")
            return errorReply(error, head: head, common: common, requestID: requestID)
        }
    }

    private func errorReply(_ error: BlobError, head: BlobRequestHead, common: [(name: String, value: String)],
                            requestID: String) -> Reply {
        var headers = common + [("x-ms-error-code", error.code)]
        if error.status == 304 || head.method == "HEAD" {
            headers.append(("Content-Length", "0"))
            return Reply(status: error.status, headers: headers, body: Data())
        }
        let message = "\(error.message)\nRequestId:\(requestID)\nTime:\(BlobDates.iso8601(Date()))"
        let body = Data(BlobText.errorXML(code: error.code, message: message).utf8)
        headers.append(("Content-Type", "application/xml"))
        headers.append(("Content-Length", String(body.count)))
        return Reply(status: error.status, headers: headers, body: body)
    }

    private func perform(_ head: BlobRequestHead, clientIP: String?, body: () async throws -> Data) async throws -> Reply {
        guard let query = BlobText.parseQuery(head.rawQuery) else {
            throw BlobError(status: 400, code: "InvalidQueryParameterValue",
                            message: "A query parameter has a malformed percent-encoding.")
        }
        func param(_ name: String) -> String? { query.first { $0.name.lowercased() == name }?.value }

        // Path: /<account>/<container>[/<blob…>], segments percent-decoded.
        let prefix = "/\(accountName)"
        guard head.rawPath == prefix || head.rawPath.hasPrefix(prefix + "/") else {
            throw BlobError(status: 400, code: "InvalidUri", message: "The requested URI does not represent any resource on the server.")
        }
        let rest = head.rawPath.dropFirst(prefix.count).drop { $0 == "/" }
        let containerPart: Substring
        let blobPart: Substring?
        if let slash = rest.firstIndex(of: "/") {
            containerPart = rest[..<slash]
            blobPart = rest[rest.index(after: slash)...]
        } else {
            containerPart = rest
            blobPart = nil
        }
        let restype = param("restype")
        let comp = param("comp")
        if containerPart.isEmpty {
            guard head.method == "GET", comp == "list", restype == nil else {
                throw BlobError(status: 501, code: "NotImplemented",
                                message: "Of the account-level operations the emulator implements only List Containers.")
            }
            if head.header("Authorization") == nil, let sas = SASToken(query: head.rawQuery ?? ""), sas.isAccountSAS {
                try sas.verifyAccountSAS(account: account, resourceType: "s", anyOf: [.list], clientIP: clientIP)
            } else {
                try SharedKeyAuthorizer(account: account).authorize(head)
            }
            return try await listContainers(param: param)
        }
        guard let container = BlobText.percentDecode(containerPart) else {
            throw BlobError.invalidResourceName("The container name has a malformed percent-encoding.")
        }
        let blob: String?
        if let blobPart, !blobPart.isEmpty {
            guard let decoded = BlobText.percentDecode(blobPart) else {
                throw BlobError.invalidResourceName("The blob name has a malformed percent-encoding.")
            }
            blob = decoded
        } else {
            blob = nil
        }

        let operation: Operation
        switch (head.method, blob, restype, comp) {
        case ("PUT", nil, "container", nil): operation = .createContainer
        case ("DELETE", nil, "container", nil): operation = .deleteContainer
        case ("GET", nil, "container", nil), ("HEAD", nil, "container", nil): operation = .containerProperties
        case ("GET", nil, "container", "list"): operation = .listBlobs
        case ("PUT", .some(_), nil, nil): operation = .putBlob
        case ("GET", .some(_), nil, nil): operation = .getBlob
        case ("HEAD", .some(_), nil, nil): operation = .blobProperties
        case ("DELETE", .some(_), nil, nil): operation = .deleteBlob
        case ("PUT", .some(_), nil, "block"): operation = .putBlock
        case ("PUT", .some(_), nil, "blocklist"): operation = .putBlockList
        default:
            throw BlobError(status: 501, code: "NotImplemented",
                            message: "The requested operation is not implemented by the emulator.")
        }

        // Authorization before any lookup: an unauthenticated caller learns nothing about containers or blobs.
        var createOnly = false
        if head.header("Authorization") != nil {
            try SharedKeyAuthorizer(account: account).authorize(head)
        } else if let sas = SASToken(query: head.rawQuery ?? "") {
            let needed: [SASPermission]
            switch operation {
            case .createContainer, .deleteContainer:
                guard sas.isAccountSAS else {
                    throw BlobError.authenticationFailed("A service SAS cannot create or delete containers.")
                }
                needed = operation == .deleteContainer ? [.delete] : [.create, .write]
            case .containerProperties, .getBlob, .blobProperties: needed = [.read]
            case .listBlobs, .listContainers: needed = [.list]
            case .deleteBlob: needed = [.delete]
            case .putBlob, .putBlock, .putBlockList: needed = [.write, .create]
            }
            try sas.verify(account: account, container: container, blob: blob, anyOf: needed, clientIP: clientIP)
            if !(sas.fields["sp"] ?? "").contains("w") { createOnly = true }
        } else {
            throw BlobError.authenticationFailed("The request carries neither a SharedKey Authorization header nor a SAS.")
        }

        if let blob {
            try BlobStore.validate(container: container, blob: blob)
        } else {
            try BlobStore.validate(container: container)
        }
        let conditions = try accessConditions(head)

        switch operation {
        case .createContainer:
            let properties = try await store.createContainer(container)
            return Reply(status: 201, headers: containerHeaders(properties) + [("Content-Length", "0")], body: Data())
        case .deleteContainer:
            try await store.deleteContainer(container)
            return Reply(status: 202, headers: [("Content-Length", "0")], body: Data())
        case .containerProperties:
            let properties = try await store.containerProperties(container)
            return Reply(status: 200,
                         headers: containerHeaders(properties) + [
                             ("x-ms-lease-status", "unlocked"), ("x-ms-lease-state", "available"),
                             ("x-ms-has-immutability-policy", "false"), ("x-ms-has-legal-hold", "false"),
                             ("Content-Length", "0"),
                         ],
                         body: Data())
        case .listBlobs:
            return try await listBlobs(container: container, param: param)
        case .putBlob:
            return try await putBlob(head, container: container, blob: blob ?? "", conditions: conditions,
                                     createOnly: createOnly, body: body)
        case .getBlob, .blobProperties:
            return try await getBlob(head, container: container, blob: blob ?? "", conditions: conditions,
                                     includeBody: operation == .getBlob)
        case .putBlock:
            let data = try await body()
            try Self.checkTransactionalMD5(head, data)
            try await store.stageBlock(container: container, name: blob ?? "", blockID: param("blockid") ?? "",
                                       data: data)
            return Reply(status: 201,
                         headers: [("Content-MD5", Data(Insecure.MD5.hash(data: data)).base64EncodedString()),
                                   ("x-ms-request-server-encrypted", "true"), ("Content-Length", "0")],
                         body: Data())
        case .putBlockList:
            let xml = String(decoding: try await body(), as: UTF8.self)
            guard let ids = Self.blockIDs(inBlockList: xml) else {
                throw BlobError(status: 400, code: "InvalidXmlDocument",
                                message: "The block list is not a BlockList XML document.")
            }
            let properties = try await store.commitBlockList(
                container: container, name: blob ?? "", blockIDs: ids, settings: contentSettings(head),
                metadata: try metadata(head), conditions: conditions, createOnly: createOnly)
            return Reply(status: 201,
                         headers: [("ETag", "\"\(properties.etag)\""),
                                   ("Last-Modified", BlobDates.rfc1123(properties.lastModified)),
                                   ("x-ms-request-server-encrypted", "true"), ("Content-Length", "0")],
                         body: Data())
        case .listContainers:
            return try await listContainers(param: param)
        case .deleteBlob:
            try await store.deleteBlob(container: container, name: blob ?? "", conditions: conditions)
            return Reply(status: 202, headers: [("x-ms-delete-type-permanent", "true"), ("Content-Length", "0")],
                         body: Data())
        }
    }

    private func accessConditions(_ head: BlobRequestHead) throws -> AccessConditions {
        func date(_ name: String) throws -> Date? {
            guard let text = head.header(name) else { return nil }
            guard let date = BlobDates.parseRFC1123(text) else {
                throw BlobError(status: 400, code: "InvalidHeaderValue",
                                message: "The value for the \(name) header is not an RFC 1123 date.")
            }
            return date
        }
        return AccessConditions(ifMatch: head.header("If-Match"), ifNoneMatch: head.header("If-None-Match"),
                                ifModifiedSince: try date("If-Modified-Since"),
                                ifUnmodifiedSince: try date("If-Unmodified-Since"))
    }

    private func containerHeaders(_ properties: ContainerProperties) -> [(name: String, value: String)] {
        [("ETag", "\"\(properties.etag)\""), ("Last-Modified", BlobDates.rfc1123(properties.lastModified))]
    }

    private func putBlob(_ head: BlobRequestHead, container: String, blob: String, conditions: AccessConditions,
                         createOnly: Bool, body: () async throws -> Data) async throws -> Reply {
        guard let blobType = head.header("x-ms-blob-type") else {
            throw BlobError(status: 400, code: "MissingRequiredHeader",
                            message: "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type.")
        }
        guard blobType == "BlockBlob" else {
            throw BlobError(status: 400, code: "InvalidHeaderValue",
                            message: "The emulator supports only block blobs (x-ms-blob-type: BlockBlob).")
        }
        // Fail before reading the body when the container is missing.
        _ = try await store.containerProperties(container)
        let data = try await body()
        try Self.checkTransactionalMD5(head, data)
        let properties = try await store.putBlob(container: container, name: blob, data: data,
                                                 settings: contentSettings(head), metadata: try metadata(head),
                                                 conditions: conditions, createOnly: createOnly)
        return Reply(status: 201,
                     headers: [
                         ("ETag", "\"\(properties.etag)\""),
                         ("Last-Modified", BlobDates.rfc1123(properties.lastModified)),
                         ("Content-MD5", Data(Insecure.MD5.hash(data: data)).base64EncodedString()),
                         ("x-ms-request-server-encrypted", "true"),
                         ("Content-Length", "0"),
                     ],
                     body: Data())
    }

    /// A request's `Content-MD5` guards the body in transit: a mismatch is refused with 400 `Md5Mismatch`.
    private static func checkTransactionalMD5(_ head: BlobRequestHead, _ data: Data) throws {
        guard let md5 = head.header("Content-MD5") else { return }
        guard md5 == Data(Insecure.MD5.hash(data: data)).base64EncodedString() else {
            throw BlobError(status: 400, code: "Md5Mismatch",
                            message: "The MD5 value specified in the request did not match with the MD5 value calculated by the server.")
        }
    }

    /// User metadata from `x-ms-meta-*` headers.
    private func metadata(_ head: BlobRequestHead) throws -> [String: String] {
        var metadata: [String: String] = [:]
        for (name, value) in head.headers where name.lowercased().hasPrefix("x-ms-meta-") {
            let key = String(name.lowercased().dropFirst("x-ms-meta-".count))
            guard Self.isValidMetadataName(key) else {
                throw BlobError(status: 400, code: "InvalidMetadata", message: "Metadata names must be valid C# identifiers.")
            }
            metadata[key] = value
        }
        return metadata
    }

    /// Content headers for the stored blob: `x-ms-blob-*` win over the request's own content headers. Put
    /// Block List's own Content-Type describes the XML body, so there only `x-ms-blob-*` count.
    private func contentSettings(_ head: BlobRequestHead) -> BlobContentSettings {
        let isBlockList = head.rawQuery?.contains("comp=blocklist") == true
        func own(_ name: String) -> String? { isBlockList ? nil : head.header(name) }
        return BlobContentSettings(
            contentType: head.header("x-ms-blob-content-type") ?? own("Content-Type"),
            contentEncoding: head.header("x-ms-blob-content-encoding") ?? own("Content-Encoding"),
            contentLanguage: head.header("x-ms-blob-content-language") ?? own("Content-Language"),
            contentDisposition: head.header("x-ms-blob-content-disposition"),
            cacheControl: head.header("x-ms-blob-cache-control") ?? own("Cache-Control"),
            contentMD5: head.header("x-ms-blob-content-md5"))
    }

    /// Block IDs of a `<BlockList>` document, in order (`Latest`, `Uncommitted` and `Committed` entries all
    /// name staged blocks here: committed blobs keep no block structure). Nil when it is not a block list.
    static func blockIDs(inBlockList xml: String) -> [String]? {
        guard xml.contains("<BlockList") else { return nil }
        var ids: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<(Latest|Uncommitted|Committed)>", options: .regularExpression) {
            let tag = rest[open].dropFirst().dropLast()
            guard let close = rest[open.upperBound...].range(of: "</\(tag)>") else { return nil }
            let id = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            ids.append(id.replacingOccurrences(of: "&#x2B;", with: "+").replacingOccurrences(of: "&#x2F;", with: "/")
                .replacingOccurrences(of: "&#x3D;", with: "="))
            rest = rest[close.upperBound...]
        }
        return ids
    }

    private func listContainers(param: (String) -> String?) async throws -> Reply {
        let prefix = param("prefix") ?? ""
        let marker = param("marker") ?? ""
        var maxResults = 5000
        if let text = param("maxresults") {
            guard let value = Int(text), value >= 1 else {
                throw BlobError(status: 400, code: "OutOfRangeQueryParameterValue",
                                message: "The maxresults query parameter must be a positive integer.")
            }
            maxResults = min(value, 5000)
        }
        let names = await store.containerNames().filter { $0.hasPrefix(prefix) && $0 >= marker }
        let page = names.prefix(maxResults)
        let e = BlobText.xmlEscape
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
        xml += "<EnumerationResults ServiceEndpoint=\"\(e(blobEndpoint + "/"))\">"
        if let value = param("prefix") { xml += "<Prefix>\(e(value))</Prefix>" }
        if let value = param("marker") { xml += "<Marker>\(e(value))</Marker>" }
        if param("maxresults") != nil { xml += "<MaxResults>\(maxResults)</MaxResults>" }
        xml += "<Containers>"
        for name in page {
            guard let p = try? await store.containerProperties(name) else { continue }
            xml += "<Container><Name>\(e(name))</Name><Properties>"
            xml += "<Last-Modified>\(BlobDates.rfc1123(p.lastModified))</Last-Modified><Etag>\(e(p.etag))</Etag>"
            xml += "<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
            xml += "<HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold>"
            xml += "</Properties></Container>"
        }
        xml += "</Containers>"
        xml += names.count > maxResults ? "<NextMarker>\(e(names[maxResults]))</NextMarker>" : "<NextMarker />"
        xml += "</EnumerationResults>"
        let body = Data(xml.utf8)
        return Reply(status: 200,
                     headers: [("Content-Type", "application/xml"), ("Content-Length", String(body.count))],
                     body: body)
    }

    private func getBlob(_ head: BlobRequestHead, container: String, blob: String, conditions: AccessConditions,
                         includeBody: Bool) async throws -> Reply {
        let (properties, data) = try await store.getBlob(container: container, name: blob, conditions: conditions)
        var headers: [(name: String, value: String)] = [
            ("Last-Modified", BlobDates.rfc1123(properties.lastModified)),
            ("x-ms-creation-time", BlobDates.rfc1123(properties.createdOn)),
            ("ETag", "\"\(properties.etag)\""),
            ("Content-Type", properties.contentType),
            ("x-ms-blob-type", "BlockBlob"),
            ("x-ms-lease-status", "unlocked"),
            ("x-ms-lease-state", "available"),
            ("x-ms-server-encrypted", "true"),
            ("x-ms-access-tier", "Hot"),
            ("x-ms-access-tier-inferred", "true"),
            ("Accept-Ranges", "bytes"),
        ]
        if let value = properties.contentEncoding { headers.append(("Content-Encoding", value)) }
        if let value = properties.contentLanguage { headers.append(("Content-Language", value)) }
        if let value = properties.contentDisposition { headers.append(("Content-Disposition", value)) }
        if let value = properties.cacheControl { headers.append(("Cache-Control", value)) }
        for (name, value) in properties.metadata.sorted(by: { $0.key < $1.key }) {
            headers.append(("x-ms-meta-\(name)", value))
        }

        // Get Blob Properties ignores ranges and always describes the whole blob.
        let rangeText = includeBody ? (head.header("x-ms-range") ?? head.header("Range")) : nil
        guard let rangeText else {
            headers.append(("Content-MD5", properties.contentMD5))
            headers.append(("Content-Length", String(data.count)))
            return Reply(status: 200, headers: headers, body: includeBody ? data : Data())
        }
        guard let (start, requestedEnd) = Self.parseRange(rangeText) else {
            throw BlobError(status: 400, code: "InvalidHeaderValue",
                            message: "The value for one of the HTTP headers is not in the correct format: the range.")
        }
        guard start < data.count else {
            throw BlobError.invalidRange
        }
        let end = min(requestedEnd ?? (data.count - 1), data.count - 1)
        let slice = data.subdata(in: start..<(end + 1))
        headers.append(("Content-Range", "bytes \(start)-\(end)/\(data.count)"))
        headers.append(("x-ms-blob-content-md5", properties.contentMD5))
        if head.header("x-ms-range-get-content-md5")?.lowercased() == "true" {
            guard slice.count <= 4 * 1024 * 1024 else {
                throw BlobError(status: 400, code: "OutOfRangeInput",
                                message: "Range MD5 is only available for ranges of at most 4 MiB.")
            }
            headers.append(("Content-MD5", Data(Insecure.MD5.hash(data: slice)).base64EncodedString()))
        }
        headers.append(("Content-Length", String(slice.count)))
        return Reply(status: 206, headers: headers, body: slice)
    }

    /// Azure requires metadata names to be C# identifiers; that also keeps them valid XML element names.
    static func isValidMetadataName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= 48 && first <= 57) else { return false }
        return name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    /// `bytes=START-END` or `bytes=START-`; nil when malformed.
    static func parseRange(_ text: String) -> (Int, Int?)? {
        guard text.hasPrefix("bytes=") else { return nil }
        let spec = text.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int(parts[0]), start >= 0 else { return nil }
        if parts[1].isEmpty { return (start, nil) }
        guard let end = Int(parts[1]), end >= start else { return nil }
        return (start, end)
    }

    private func listBlobs(container: String, param: (String) -> String?) async throws -> Reply {
        let prefix = param("prefix") ?? ""
        let delimiter = param("delimiter")
        let marker = param("marker").flatMap { $0.isEmpty ? nil : $0 }
        var maxResults = 5000
        if let text = param("maxresults") {
            guard let value = Int(text), value >= 1 else {
                throw BlobError(status: 400, code: "OutOfRangeQueryParameterValue",
                                message: "The maxresults query parameter must be a positive integer.")
            }
            maxResults = min(value, 5000)
        }
        let include = Set((param("include") ?? "").split(separator: ",").map { $0.lowercased() })
        let listing = try await store.listBlobs(container: container, prefix: prefix, delimiter: delimiter,
                                                marker: marker, maxResults: maxResults)
        let xml = Self.enumerationXML(listing, serviceEndpoint: blobEndpoint, container: container,
                                      prefix: param("prefix"), marker: param("marker"),
                                      maxResults: param("maxresults") == nil ? nil : maxResults,
                                      delimiter: delimiter, includeMetadata: include.contains("metadata"))
        let body = Data(xml.utf8)
        return Reply(status: 200,
                     headers: [("Content-Type", "application/xml"), ("Content-Length", String(body.count))],
                     body: body)
    }

    /// The `EnumerationResults` document of List Blobs.
    static func enumerationXML(_ listing: BlobListing, serviceEndpoint: String, container: String, prefix: String?,
                               marker: String?, maxResults: Int?, delimiter: String?,
                               includeMetadata: Bool) -> String {
        let e = BlobText.xmlEscape
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
        xml += "<EnumerationResults ServiceEndpoint=\"\(e(serviceEndpoint + "/"))\" ContainerName=\"\(e(container))\">"
        if let prefix { xml += "<Prefix>\(e(prefix))</Prefix>" }
        if let marker { xml += "<Marker>\(e(marker))</Marker>" }
        if let maxResults { xml += "<MaxResults>\(maxResults)</MaxResults>" }
        if let delimiter { xml += "<Delimiter>\(e(delimiter))</Delimiter>" }
        xml += "<Blobs>"
        for item in listing.items {
            switch item {
            case .prefix(let name):
                xml += "<BlobPrefix><Name>\(e(name))</Name></BlobPrefix>"
            case .blob(let p):
                xml += "<Blob><Name>\(e(p.name))</Name><Properties>"
                xml += "<Creation-Time>\(BlobDates.rfc1123(p.createdOn))</Creation-Time>"
                xml += "<Last-Modified>\(BlobDates.rfc1123(p.lastModified))</Last-Modified>"
                xml += "<Etag>\(e(p.etag))</Etag>"
                xml += "<Content-Length>\(p.contentLength)</Content-Length>"
                xml += "<Content-Type>\(e(p.contentType))</Content-Type>"
                xml += "<Content-Encoding>\(e(p.contentEncoding ?? ""))</Content-Encoding>"
                xml += "<Content-Language>\(e(p.contentLanguage ?? ""))</Content-Language>"
                xml += "<Content-CRC64 />"
                xml += "<Content-MD5>\(e(p.contentMD5))</Content-MD5>"
                xml += "<Cache-Control>\(e(p.cacheControl ?? ""))</Cache-Control>"
                xml += "<Content-Disposition>\(e(p.contentDisposition ?? ""))</Content-Disposition>"
                xml += "<BlobType>BlockBlob</BlobType>"
                xml += "<AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred>"
                xml += "<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
                xml += "<ServerEncrypted>true</ServerEncrypted>"
                xml += "</Properties>"
                if includeMetadata {
                    xml += "<Metadata>"
                    for (name, value) in p.metadata.sorted(by: { $0.key < $1.key }) {
                        xml += "<\(name)>\(e(value))</\(name)>"
                    }
                    xml += "</Metadata>"
                }
                xml += "</Blob>"
            }
        }
        xml += "</Blobs>"
        xml += listing.nextMarker.map { "<NextMarker>\(e($0))</NextMarker>" } ?? "<NextMarker />"
        xml += "</EnumerationResults>"
        return xml
    }
}

/// A value behind a lock, for the few mutable fields of otherwise immutable Sendable services.
private final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func update(_ body: (inout Value) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(&stored)
    }
}
