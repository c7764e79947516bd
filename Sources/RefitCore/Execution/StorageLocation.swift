/// What a storage probe saw of one slice's data (docs/SEMANTICS.md D11): the slice is present when,
/// at its resolved location, its `fileName` exists — or, without one, at least one non-empty
/// file under `folderPath` (names starting with `.` or `_` ignored); with
/// `typeProperties.readyMarker`, when the marker exists.
public enum ProbeOutcome: Hashable, Sendable {
    /// The data is there; the fingerprint is what the worker records when the slice becomes Ready.
    case present(DataFingerprint)
    /// Not there (yet); `detail` says what was looked for, e.g. "no file training/2026/01/01/00.csv".
    case absent(detail: String)
    /// The store could not be asked (unreachable, permission denied…). `retryable` is false for
    /// problems a retry cannot fix (bad credentials, a malformed location).
    case failed(message: String, retryable: Bool)
}

/// Names, sizes and versions of a slice's files, so a later change of the data is detectable.
public struct DataFingerprint: Hashable, Sendable, Codable {
    public struct File: Hashable, Sendable, Codable {
        /// Path relative to the store's root (blob name, object key, or path under the file server's host).
        public var name: String
        public var size: Int64
        /// ETag for blobs and objects; nil for local files.
        public var etag: String?
        /// Last modification, whole seconds since the epoch.
        public var modified: Int64?
        public init(name: String, size: Int64, etag: String? = nil, modified: Int64? = nil) {
            self.name = name; self.size = size; self.etag = etag; self.modified = modified
        }
    }

    public var files: [File]

    public init(files: [File]) { self.files = files.sorted { $0.name < $1.name } }

    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.size } }
}

/// A place slices of one dataset live: a local folder, an S3 bucket, a blob container. One
/// implementation per technology (`LocalFolderLocation`, `S3Location`, `AzureBlobLocation`).
public protocol StorageLocation: Sendable {
    /// Probes every given slice of `dataset`, listing as few times as the layout allows (one
    /// listing of a common prefix rather than one request per slice). Every slice gets an outcome.
    func probe(_ slices: [Slice], of dataset: Dataset) async -> [Slice: ProbeOutcome]
}
