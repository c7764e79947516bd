import Crypto
import Foundation

/// Properties of a container, as Get Container Properties and Create Container report them.
public struct ContainerProperties: Sendable, Codable, Equatable {
    public var name: String
    /// Opaque, unquoted (`0x8D…`); headers carry it in quotes.
    public var etag: String
    public var lastModified: Date
}

/// Properties of a block blob, as Get Blob Properties and List Blobs report them.
public struct BlobProperties: Sendable, Codable, Equatable {
    public var container: String
    public var name: String
    public var contentLength: Int
    public var contentType: String
    public var contentEncoding: String?
    public var contentLanguage: String?
    public var contentDisposition: String?
    public var cacheControl: String?
    /// base64 MD5 of the content: the client's `x-ms-blob-content-md5` when given, else computed, as Azure does
    /// for Put Blob.
    public var contentMD5: String
    /// Opaque, unquoted (`0x8D…`); headers carry it in quotes.
    public var etag: String
    public var lastModified: Date
    public var createdOn: Date
    /// User metadata from `x-ms-meta-*`, names lower-cased.
    public var metadata: [String: String]
}

/// HTTP content headers stored with a blob on Put Blob.
public struct BlobContentSettings: Sendable, Equatable {
    public var contentType: String?
    public var contentEncoding: String?
    public var contentLanguage: String?
    public var contentDisposition: String?
    public var cacheControl: String?
    public var contentMD5: String?

    public init(contentType: String? = nil, contentEncoding: String? = nil, contentLanguage: String? = nil,
                contentDisposition: String? = nil, cacheControl: String? = nil, contentMD5: String? = nil) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.contentLanguage = contentLanguage
        self.contentDisposition = contentDisposition
        self.cacheControl = cacheControl
        self.contentMD5 = contentMD5
    }
}

/// HTTP conditional headers, evaluated atomically against the blob's current state.
public struct AccessConditions: Sendable, Equatable {
    public var ifMatch: String?
    public var ifNoneMatch: String?
    public var ifModifiedSince: Date?
    public var ifUnmodifiedSince: Date?

    public init(ifMatch: String? = nil, ifNoneMatch: String? = nil, ifModifiedSince: Date? = nil,
                ifUnmodifiedSince: Date? = nil) {
        self.ifMatch = ifMatch
        self.ifNoneMatch = ifNoneMatch
        self.ifModifiedSince = ifModifiedSince
        self.ifUnmodifiedSince = ifUnmodifiedSince
    }

    public static let none = AccessConditions()

    /// nil when the conditions hold. Reads that fail If-None-Match / If-Modified-Since get 304, everything else
    /// 412, as Azure answers.
    func failure(for current: BlobProperties?, isRead: Bool) -> BlobError? {
        func matches(_ list: String, _ etag: String?) -> Bool {
            guard let etag else { return false }
            return list.split(separator: ",").contains { item in
                let tag = item.trimmingCharacters(in: .whitespaces)
                return tag == "*" || tag == "\"\(etag)\"" || tag == etag
            }
        }
        if let ifMatch {
            guard current != nil, matches(ifMatch, current?.etag) else { return .conditionNotMet }
        }
        if let ifNoneMatch, current != nil, matches(ifNoneMatch, current?.etag) {
            if isRead { return .notModified }
            return ifNoneMatch.trimmingCharacters(in: .whitespaces) == "*" ? .blobAlreadyExists : .conditionNotMet
        }
        if let current {
            // HTTP dates have whole seconds; compare at that resolution.
            let modified = current.lastModified.timeIntervalSince1970.rounded(.down)
            if let since = ifModifiedSince, modified <= since.timeIntervalSince1970 {
                return isRead ? .notModified : .conditionNotMet
            }
            if let since = ifUnmodifiedSince, modified > since.timeIntervalSince1970 {
                return .conditionNotMet
            }
        }
        return nil
    }
}

/// One page of List Blobs: blobs and, with a delimiter, the virtual folders (`BlobPrefix`) in name order.
public struct BlobListing: Sendable {
    public enum Item: Sendable {
        case blob(BlobProperties)
        case prefix(String)
    }
    public var items: [Item]
    /// Where the next page starts; nil on the last page.
    public var nextMarker: String?
}

/// Containers and block blobs of the emulated account, held in memory and — when given a state folder —
/// written through to `<state>/blobs/<container>/…` so an emulator restart keeps them.
///
/// On disk every blob name segment is percent-encoded (anything but `A–Z a–z 0–9 - _ . ~`, and a leading dot),
/// so no name can climb out of the folder; the content lives in `<last segment>@blob`, its properties in
/// `<last segment>@meta` (JSON), and the container's own properties in `<container>/@container`. Because `@`
/// is always encoded inside names, blobs `a` and `a/b` never collide.
public actor BlobStore {
    private struct Container {
        var properties: ContainerProperties
        var blobs: [String: (properties: BlobProperties, data: Data)] = [:]
    }

    private var containers: [String: Container] = [:]
    /// Blocks staged by Put Block, by container, blob and block ID; in memory only, as uncommitted blocks are
    /// transient (Azure discards them after a week).
    private var stagedBlocks: [String: [String: [String: Data]]] = [:]
    private let root: URL?
    private var lastETagTick: UInt64 = 0

    /// An in-memory store, empty.
    public init() {
        root = nil
    }

    /// A store persisted under `stateDirectory/blobs`, loading what an earlier run left there.
    public init(stateDirectory: URL) throws {
        let root = stateDirectory.appendingPathComponent("blobs", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        } catch {
            throw BlobError.storageFailure("Cannot create the blob state folder \(root.path).")
        }
        self.root = root
        self.containers = try Self.load(from: root)
    }

    // MARK: Names

    /// Azure's container name rule: 3–63 characters, lowercase letters, digits and single hyphens, starting
    /// and ending with a letter or digit.
    public static func isValidContainerName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        for (i, b) in bytes.enumerated() {
            if b == UInt8(ascii: "-") {
                if bytes[i - 1] == UInt8(ascii: "-") { return false }
            } else if !alnum(b) {
                return false
            }
        }
        return true
    }

    /// Azure's blob name rule: 1–1024 characters; the emulator also refuses control characters.
    public static func isValidBlobName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 1024 && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    static func validate(container: String) throws {
        guard isValidContainerName(container) else {
            throw BlobError.invalidResourceName(
                "Container names are 3 to 63 lowercase letters, digits and single hyphens.")
        }
    }

    static func validate(container: String, blob: String) throws {
        try validate(container: container)
        guard isValidBlobName(blob) else {
            throw BlobError.invalidResourceName("Blob names are 1 to 1024 characters without control characters.")
        }
    }

    // MARK: Containers

    /// Creates a container; 409 `ContainerAlreadyExists` when it exists.
    @discardableResult
    public func createContainer(_ name: String) throws -> ContainerProperties {
        try Self.validate(container: name)
        guard containers[name] == nil else { throw BlobError.containerAlreadyExists }
        let properties = ContainerProperties(name: name, etag: nextETag(), lastModified: Date())
        try persistContainer(properties)
        containers[name] = Container(properties: properties)
        return properties
    }

    /// Deletes a container and all its blobs; 404 `ContainerNotFound` when missing.
    public func deleteContainer(_ name: String) throws {
        try Self.validate(container: name)
        guard containers[name] != nil else { throw BlobError.containerNotFound }
        if let directory = containerDirectory(name) {
            do {
                try FileManager.default.removeItem(at: directory)
            } catch {
                throw BlobError.storageFailure("Cannot delete the container's folder.")
            }
        }
        containers[name] = nil
        stagedBlocks[name] = nil
    }

    public func containerProperties(_ name: String) throws -> ContainerProperties {
        try Self.validate(container: name)
        guard let container = containers[name] else { throw BlobError.containerNotFound }
        return container.properties
    }

    public func containerNames() -> [String] {
        containers.keys.sorted()
    }

    // MARK: Blobs

    /// Stores a block blob, replacing any blob of that name, after checking `conditions` against the blob it
    /// replaces. `createOnly` refuses to replace (a SAS with `c` but not `w`).
    @discardableResult
    public func putBlob(container: String, name: String, data: Data, settings: BlobContentSettings = .init(),
                        metadata: [String: String] = [:], conditions: AccessConditions = .none,
                        createOnly: Bool = false) throws -> BlobProperties {
        try Self.validate(container: container, blob: name)
        guard let existing = containers[container].map({ $0.blobs[name]?.properties }) else {
            throw BlobError.containerNotFound
        }
        if let failure = conditions.failure(for: existing, isRead: false) { throw failure }
        if createOnly, existing != nil {
            throw BlobError.permissionMismatch("The SAS may create blobs but not overwrite them.")
        }
        let now = Date()
        let properties = BlobProperties(
            container: container, name: name, contentLength: data.count,
            contentType: settings.contentType ?? "application/octet-stream",
            contentEncoding: settings.contentEncoding, contentLanguage: settings.contentLanguage,
            contentDisposition: settings.contentDisposition, cacheControl: settings.cacheControl,
            contentMD5: settings.contentMD5 ?? Data(Insecure.MD5.hash(data: data)).base64EncodedString(),
            etag: nextETag(), lastModified: now, createdOn: existing?.createdOn ?? now,
            metadata: metadata)
        try persistBlob(properties, data: data)
        // Mutated in place: a copy taken out and written back would copy every blob of the
        // container on each put (a cost that grew with the container, quadratic over a backfill).
        containers[container]?.blobs[name] = (properties, data)
        return properties
    }

    /// Stages one block of a future Put Block List (Azure's chunked upload, used by the SDKs for large blobs).
    public func stageBlock(container: String, name: String, blockID: String, data: Data) throws {
        try Self.validate(container: container, blob: name)
        guard containers[container] != nil else { throw BlobError.containerNotFound }
        guard !blockID.isEmpty, blockID.utf8.count <= 88, Data(base64Encoded: blockID) != nil else {
            throw BlobError(status: 400, code: "InvalidQueryParameterValue",
                            message: "The block ID must be a base64 string of at most 64 bytes.")
        }
        stagedBlocks[container, default: [:]][name, default: [:]][blockID] = data
    }

    /// Commits staged blocks, in the given order, as the blob's new content; the blob's other staged blocks
    /// are discarded. 400 `InvalidBlockList` when a block was never staged.
    @discardableResult
    public func commitBlockList(container: String, name: String, blockIDs: [String],
                                settings: BlobContentSettings = .init(), metadata: [String: String] = [:],
                                conditions: AccessConditions = .none, createOnly: Bool = false) throws -> BlobProperties {
        try Self.validate(container: container, blob: name)
        guard containers[container] != nil else { throw BlobError.containerNotFound }
        let staged = stagedBlocks[container]?[name] ?? [:]
        var data = Data()
        for id in blockIDs {
            guard let block = staged[id] else {
                throw BlobError(status: 400, code: "InvalidBlockList",
                                message: "The specified block list is invalid: a block was not staged.")
            }
            data.append(block)
        }
        var settings = settings
        if settings.contentMD5 == nil {
            settings.contentMD5 = Data(Insecure.MD5.hash(data: data)).base64EncodedString()
        }
        let properties = try putBlob(container: container, name: name, data: data, settings: settings,
                                     metadata: metadata, conditions: conditions, createOnly: createOnly)
        stagedBlocks[container]?[name] = nil
        return properties
    }

    /// The blob's properties and content; 404 `ContainerNotFound` / `BlobNotFound`, 304/412 on conditions.
    public func getBlob(container: String, name: String,
                        conditions: AccessConditions = .none) throws -> (properties: BlobProperties, data: Data) {
        try Self.validate(container: container, blob: name)
        guard let box = containers[container] else { throw BlobError.containerNotFound }
        guard let entry = box.blobs[name] else {
            if conditions.ifMatch != nil { throw BlobError.conditionNotMet }
            throw BlobError.blobNotFound
        }
        if let failure = conditions.failure(for: entry.properties, isRead: true) { throw failure }
        return entry
    }

    public func blobProperties(container: String, name: String,
                               conditions: AccessConditions = .none) throws -> BlobProperties {
        try getBlob(container: container, name: name, conditions: conditions).properties
    }

    /// Whether the blob exists (false too for a missing container).
    public func blobExists(container: String, name: String) -> Bool {
        containers[container]?.blobs[name] != nil
    }

    public func deleteBlob(container: String, name: String, conditions: AccessConditions = .none) throws {
        try Self.validate(container: container, blob: name)
        guard containers[container] != nil else { throw BlobError.containerNotFound }
        guard let entry = containers[container]?.blobs[name] else { throw BlobError.blobNotFound }
        if let failure = conditions.failure(for: entry.properties, isRead: false) { throw failure }
        if let files = blobFiles(container: container, name: name) {
            do {
                try FileManager.default.removeItem(at: files.meta)
                try FileManager.default.removeItem(at: files.data)
            } catch {
                throw BlobError.storageFailure("Cannot delete the blob's files.")
            }
            pruneEmptyFolders(from: files.data.deletingLastPathComponent(), upTo: containerDirectory(container))
        }
        containers[container]?.blobs[name] = nil
    }

    /// Lists blobs in name order starting at `marker` (a name from an earlier page's `nextMarker`), at most
    /// `maxResults` items. With a `delimiter`, names continuing past it after the prefix are rolled up into one
    /// `prefix` item per virtual folder.
    public func listBlobs(container: String, prefix: String = "", delimiter: String? = nil, marker: String? = nil,
                          maxResults: Int = 5000) throws -> BlobListing {
        try Self.validate(container: container)
        guard let box = containers[container] else { throw BlobError.containerNotFound }
        var items: [BlobListing.Item] = []
        var lastPrefix: String?
        for name in box.blobs.keys.sorted(by: Self.nameOrder) {
            guard name.hasPrefix(prefix) else { continue }
            var itemKey = name
            var rolledUp: String?
            if let delimiter, !delimiter.isEmpty,
               let range = name.dropFirst(prefix.count).range(of: delimiter) {
                rolledUp = String(name[..<range.upperBound])
                itemKey = rolledUp ?? name
            }
            if let marker, Self.nameOrder(itemKey, marker) { continue }
            if let rolledUp {
                if rolledUp == lastPrefix { continue }
                if items.count == maxResults { return BlobListing(items: items, nextMarker: rolledUp) }
                lastPrefix = rolledUp
                items.append(.prefix(rolledUp))
            } else {
                if items.count == maxResults { return BlobListing(items: items, nextMarker: name) }
                if let entry = box.blobs[name] { items.append(.blob(entry.properties)) }
            }
        }
        return BlobListing(items: items, nextMarker: nil)
    }

    /// Azure lists in binary (UTF-8) order.
    static func nameOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    // MARK: ETags

    /// `0x` + 16 hex digits of 100-ns ticks since 1601 (like Azure's), strictly increasing so every write
    /// gets a new ETag.
    private func nextETag() -> String {
        let ticks = UInt64(max(0, (Date().timeIntervalSince1970 + 11_644_473_600) * 10_000_000))
        lastETagTick = max(ticks, lastETagTick + 1)
        return "0x" + String(lastETagTick, radix: 16, uppercase: true)
    }

    // MARK: Persistence

    private func containerDirectory(_ name: String) -> URL? {
        root?.appendingPathComponent(name, isDirectory: true)
    }

    /// Disk name of one blob name segment: percent-encoded, never `@`, never starting with a dot, and a
    /// hash when too long for a file name.
    static func diskSegment(_ segment: Substring) -> String {
        if segment.isEmpty { return "@e" }
        var encoded = BlobText.percentEncode(String(segment))
        if encoded.hasPrefix(".") { encoded = "%2E" + encoded.dropFirst() }
        if encoded.utf8.count > 200 {
            return "@h" + SHA256.hash(data: Data(segment.utf8)).map { String($0, radix: 16).leftPad2() }.joined()
        }
        return encoded
    }

    private func blobFiles(container: String, name: String) -> (data: URL, meta: URL)? {
        guard var url = containerDirectory(container) else { return nil }
        let segments = name.split(separator: "/", omittingEmptySubsequences: false)
        for segment in segments.dropLast() {
            url.appendPathComponent(Self.diskSegment(segment), isDirectory: true)
        }
        let last = Self.diskSegment(segments.last ?? "")
        return (url.appendingPathComponent(last + "@blob"), url.appendingPathComponent(last + "@meta"))
    }

    private func persistContainer(_ properties: ContainerProperties) throws {
        guard let directory = containerDirectory(properties.name) else { return }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try JSONEncoder().encode(properties).write(to: directory.appendingPathComponent("@container"),
                                                       options: .atomic)
        } catch {
            throw BlobError.storageFailure("Cannot write the container's folder.")
        }
    }

    private func persistBlob(_ properties: BlobProperties, data: Data) throws {
        guard let files = blobFiles(container: properties.container, name: properties.name) else { return }
        do {
            try FileManager.default.createDirectory(at: files.data.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try data.write(to: files.data, options: .atomic)
            try JSONEncoder().encode(properties).write(to: files.meta, options: .atomic)
        } catch {
            throw BlobError.storageFailure("Cannot write the blob's files.")
        }
    }

    private func pruneEmptyFolders(from folder: URL, upTo stop: URL?) {
        guard let stop else { return }
        var current = folder.standardizedFileURL
        let limit = stop.standardizedFileURL.path
        while current.path.count > limit.count, current.path.hasPrefix(limit) {
            guard let contents = try? FileManager.default.contentsOfDirectory(atPath: current.path),
                  contents.isEmpty, (try? FileManager.default.removeItem(at: current)) != nil else { return }
            current = current.deletingLastPathComponent()
        }
    }

    private static func load(from root: URL) throws -> [String: Container] {
        let fm = FileManager.default
        var result: [String: Container] = [:]
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: root.path)
        } catch {
            throw BlobError.storageFailure("Cannot read the blob state folder \(root.path).")
        }
        let decoder = JSONDecoder()
        for name in names where isValidContainerName(name) {
            let directory = root.appendingPathComponent(name, isDirectory: true)
            guard let raw = try? Data(contentsOf: directory.appendingPathComponent("@container")),
                  let properties = try? decoder.decode(ContainerProperties.self, from: raw) else { continue }
            var container = Container(properties: properties)
            let walker = fm.enumerator(at: directory, includingPropertiesForKeys: nil)
            while let url = walker?.nextObject() as? URL {
                guard url.lastPathComponent.hasSuffix("@meta"),
                      let raw = try? Data(contentsOf: url),
                      let blob = try? decoder.decode(BlobProperties.self, from: raw),
                      blob.container == name else { continue }
                let dataURL = url.deletingLastPathComponent()
                    .appendingPathComponent(String(url.lastPathComponent.dropLast("@meta".count)) + "@blob")
                guard let data = try? Data(contentsOf: dataURL), data.count == blob.contentLength else { continue }
                container.blobs[blob.name] = (blob, data)
            }
            result[name] = container
        }
        return result
    }
}

private extension String {
    func leftPad2() -> String { count < 2 ? "0" + self : self }
}
