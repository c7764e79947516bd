import Foundation
import RefitCore
import RefitHTTP

/// Something a probe did, reported to an optional observer: lets the worker log at debug level
/// and lets tests check that many slices cost one listing, not one request each.
public enum ProbeEvent: Hashable, Sendable {
    /// A local directory walk starting at this absolute folder.
    case walk(root: String)
    /// A listing request (one page) of a bucket or container under a prefix.
    case list(store: String, prefix: String)
    /// A single-object request (HEAD / Get Blob Properties).
    case head(store: String, name: String)
}

/// Receives ``ProbeEvent``s; called synchronously from the probe, so keep it cheap.
public typealias ProbeObserver = @Sendable (ProbeEvent) -> Void

/// What D11 looks for for one slice, after `{token}` expansion. Paths are relative to the store's
/// root (the file server's host, the bucket, or the blob service with the container as first
/// segment), use `/`, and have no leading or trailing `/`.
struct SliceTarget: Hashable, Sendable {
    /// The data folder (`folderPath` expanded); "" is the root.
    var folder: String
    /// The one data file (`folder/fileName`), when the dataset names it.
    var file: String?
    /// The ready marker's full path, when the dataset has `readyMarker`.
    var marker: String?

    /// `folder/` (or "" at the root): every name the slice can match starts with it.
    var folderPrefix: String { folder.isEmpty ? "" : folder + "/" }

    /// A dataset's location with its templates scanned once, to resolve each of many slices:
    /// `resolve` expands the location for one slice. S3's `key` is treated as folder + file
    /// name. A template error or a path leaving the store is a non-retryable failure.
    struct Resolver {
        private struct Field {
            let template: String
            let what: String
            let compiled: PartitionedPath.Template

            init?(_ template: String?, what: String, tokens: [PartitionToken]) {
                guard let template else { return nil }
                self.template = template
                self.what = what
                compiled = PartitionedPath.Template(template, tokens: tokens)
            }

            func expand(_ slice: Slice) throws(ProbeFailure) -> String {
                let expanded: String
                do {
                    expanded = try compiled.expand(slice)
                } catch {
                    throw ProbeFailure("The \(what) '\(template)' cannot be expanded: \(error.message).", retryable: false)
                }
                if PartitionedPath.escapesRoot(expanded) {
                    throw ProbeFailure("The \(what) '\(expanded)' leaves the store's root (absolute path, '..' or backslash).",
                                       retryable: false)
                }
                return expanded
            }
        }

        private let key: Field?
        private let folderPath: Field?
        private let fileName: Field?
        private let readyMarker: Field?

        init(_ location: Dataset.Location) {
            let tokens = location.partitionedBy
            key = Field(location.key, what: "key", tokens: tokens)
            folderPath = Field(location.folderPath, what: "folderPath", tokens: tokens)
            fileName = Field(location.fileName.flatMap { $0.isEmpty ? nil : $0 }, what: "fileName", tokens: tokens)
            readyMarker = Field(location.readyMarker.flatMap { $0.isEmpty ? nil : $0 }, what: "readyMarker", tokens: tokens)
        }

        func resolve(_ slice: Slice) -> Result<SliceTarget, ProbeFailure> {
            Result { () throws(ProbeFailure) in try target(slice) }
        }

        private func target(_ slice: Slice) throws(ProbeFailure) -> SliceTarget {
            var target: SliceTarget
            if let key {
                let path = normalize(try key.expand(slice))
                guard !path.isEmpty else { throw ProbeFailure("The key is empty.", retryable: false) }
                target = SliceTarget(folder: parent(of: path), file: path, marker: nil)
            } else {
                let folder = try folderPath.map { field throws(ProbeFailure) in normalize(try field.expand(slice)) } ?? ""
                target = SliceTarget(folder: folder, file: nil, marker: nil)
                if let fileName {
                    let name = normalize(try fileName.expand(slice))
                    guard !name.isEmpty else { throw ProbeFailure("The fileName is empty after expansion.", retryable: false) }
                    target.file = folder.isEmpty ? name : folder + "/" + name
                }
            }
            if let readyMarker {
                let name = normalize(try readyMarker.expand(slice))
                target.marker = target.folder.isEmpty ? name : target.folder + "/" + name
            }
            return target
        }
    }

    /// Strips leading/trailing `/` and collapses `//` and `.` segments.
    static func normalize(_ path: String) -> String {
        if isNormal(path) { return path }
        return path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }.joined(separator: "/")
    }

    /// True when `normalize` would return `path` unchanged: no empty and no `.` segment (the usual
    /// case, checked in one pass over the bytes without splitting).
    private static func isNormal(_ path: String) -> Bool {
        var segmentLength = 0
        var segmentIsDot = false
        for byte in path.utf8 {
            if byte == UInt8(ascii: "/") {
                if segmentLength == 0 || (segmentLength == 1 && segmentIsDot) { return false }
                segmentLength = 0
            } else {
                segmentIsDot = segmentLength == 0 && byte == UInt8(ascii: ".")
                segmentLength += 1
            }
        }
        return !path.isEmpty && segmentLength > 0 && !(segmentLength == 1 && segmentIsDot)
    }

    static func parent(of path: String) -> String {
        // '/' is one byte that never occurs inside a multi-byte character.
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return String(path[..<slash])
    }

    /// D11's verdict on this slice given every file the store holds under `folderPrefix`
    /// (`index` may hold more). Sizes are reported, not judged: `minimumSizeMB` is the worker's.
    func evaluate(_ index: FileIndex) -> ProbeOutcome {
        let data: [DataFingerprint.File]
        if let file {
            data = index.file(named: file).map { [$0] } ?? []
        } else {
            data = index.files(withPrefix: folderPrefix).filter { entry in
                entry.size > 0 && !SliceTarget.isIgnored(String(entry.name.dropFirst(folderPrefix.count)))
            }
        }
        if let marker {
            guard index.file(named: marker) != nil else { return .absent(detail: "no ready marker \(marker)") }
            return .present(DataFingerprint(files: data))
        }
        if let file {
            return data.isEmpty ? .absent(detail: "no file \(file)") : .present(DataFingerprint(files: data))
        }
        if data.isEmpty {
            let place = folder.isEmpty ? "the root" : folder + "/"
            return .absent(detail: "no non-empty file under \(place) (names starting with '.' or '_' are ignored)")
        }
        return .present(DataFingerprint(files: data))
    }

    /// D11: names starting with `.` or `_` do not count as data — in any segment below the folder,
    /// so Hadoop-style `_temporary/…` and `.staging/…` files are ignored too.
    static func isIgnored(_ relativeName: String) -> Bool {
        relativeName.split(separator: "/").contains { $0.hasPrefix(".") || $0.hasPrefix("_") }
    }
}

/// A probe failure before it becomes a ``ProbeOutcome/failed(message:retryable:)``.
struct ProbeFailure: Error, Hashable, Sendable {
    var message: String
    var retryable: Bool
    init(_ message: String, retryable: Bool) { self.message = message; self.retryable = retryable }
    var outcome: ProbeOutcome { .failed(message: message, retryable: retryable) }
}

/// The files one listing saw, sorted by name for prefix lookups.
struct FileIndex: Sendable {
    private(set) var files: [DataFingerprint.File]

    init(_ files: [DataFingerprint.File]) { self.files = files.sorted { $0.name < $1.name } }

    func file(named name: String) -> DataFingerprint.File? {
        let i = lowerBound(name)
        return i < files.count && files[i].name == name ? files[i] : nil
    }

    func files(withPrefix prefix: String) -> ArraySlice<DataFingerprint.File> {
        let start = lowerBound(prefix)
        var end = start
        while end < files.count && files[end].name.hasPrefix(prefix) { end += 1 }
        return files[start..<end]
    }

    private func lowerBound(_ name: String) -> Int {
        var low = 0, high = files.count
        while low < high {
            let mid = (low + high) / 2
            if files[mid].name < name { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

enum ProbeText {
    /// The longest common prefix of `strings`, character by character.
    static func commonPrefix<S: Sequence>(_ strings: S) -> String where S.Element == String {
        var iterator = strings.makeIterator()
        guard let first = iterator.next() else { return "" }
        var prefix = Substring(first)
        while let next = iterator.next() {
            var a = prefix.startIndex, b = next.startIndex
            while a < prefix.endIndex, b < next.endIndex, prefix[a] == next[b] {
                a = prefix.index(after: a); b = next.index(after: b)
            }
            prefix = prefix[..<a]
        }
        return String(prefix)
    }

    /// Whole seconds since the epoch from ISO 8601 (S3 listings) or an HTTP date (HEAD, Azure).
    static func seconds(fromTimestamp text: String) -> Int64? {
        if let instant = Instant.parse(text) { return instant.secondsSinceEpoch }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970.rounded(.down)) }
    }

    /// A HEAD answer (S3 HEAD Object, Azure Get Blob Properties) as one file: 404 is absent,
    /// another failure a probe failure; size, ETag and Last-Modified come from the headers.
    static func file(named name: String, fromHead response: HTTPResponse, operation: String)
        -> Result<DataFingerprint.File?, ProbeFailure>
    {
        if response.status == 404 { return .success(nil) }
        guard response.isSuccess else {
            return .failure(StoreFailure.status(response.status, body: response.body, operation: operation))
        }
        return .success(DataFingerprint.File(
            name: name, size: Int64(response.headers["Content-Length"] ?? "") ?? 0,
            etag: etag(response.headers["ETag"]),
            modified: response.headers["Last-Modified"].flatMap(seconds(fromTimestamp:))))
    }

    /// Strips the quotes S3 and Azure put around ETags.
    static func etag(_ raw: String?) -> String? {
        guard var value = raw?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
        return value
    }
}

extension Dictionary where Key == Slice, Value == ProbeOutcome {
    /// Every slice failed the same way (a credential that cannot be resolved, an unreachable store).
    static func all(_ slices: [Slice], _ outcome: ProbeOutcome) -> [Slice: ProbeOutcome] {
        Dictionary(slices.map { ($0, outcome) }, uniquingKeysWith: { first, _ in first })
    }
}
