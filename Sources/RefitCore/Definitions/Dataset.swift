/// A named, time-sliced unit of data (ADF v1 "table").
public struct Dataset: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case azureBlob = "AzureBlob", amazonS3 = "AmazonS3", fileShare = "FileShare"
    }

    /// Where a slice's data lives, before `{token}` expansion.
    public struct Location: Hashable, Sendable {
        /// AzureBlob: `container/path`; FileShare: folder relative to the file server's host;
        /// AmazonS3: the key prefix (with `bucketName`).
        public var folderPath: String?
        public var fileName: String?
        /// AmazonS3 only.
        public var bucketName: String?
        /// AmazonS3 `key` (a single object), if given instead of a prefix.
        public var key: String?
        public var partitionedBy: [PartitionToken]
        /// Extension (docs/SEMANTICS.md D11): a marker file whose existence makes the slice ready.
        public var readyMarker: String?
        public init(folderPath: String? = nil, fileName: String? = nil, bucketName: String? = nil, key: String? = nil,
                    partitionedBy: [PartitionToken] = [], readyMarker: String? = nil) {
            self.folderPath = folderPath; self.fileName = fileName; self.bucketName = bucketName; self.key = key
            self.partitionedBy = partitionedBy; self.readyMarker = readyMarker
        }
    }

    /// `policy.externalData` with ADF's defaults (docs/SEMANTICS.md §2.2).
    public struct ExternalDataPolicy: Hashable, Sendable {
        public var dataDelay: TimeSpan = .zero
        public var retryInterval: TimeSpan = .minutes(1)
        public var retryTimeout: TimeSpan = .minutes(10)
        public var maximumRetry: Int = 3
        public init(dataDelay: TimeSpan = .zero, retryInterval: TimeSpan = .minutes(1),
                    retryTimeout: TimeSpan = .minutes(10), maximumRetry: Int = 3) {
            self.dataDelay = dataDelay; self.retryInterval = retryInterval
            self.retryTimeout = retryTimeout; self.maximumRetry = maximumRetry
        }
    }

    /// `policy.validation`.
    public struct ValidationPolicy: Hashable, Sendable {
        public var minimumSizeMB: Double?
        public var minimumRows: Int?
        public init(minimumSizeMB: Double? = nil, minimumRows: Int? = nil) {
            self.minimumSizeMB = minimumSizeMB; self.minimumRows = minimumRows
        }
    }

    public var name: String
    public var kind: Kind
    public var linkedServiceName: String
    public var location: Location
    public var availability: Availability
    public var external: Bool
    public var externalData: ExternalDataPolicy?
    public var validation: ValidationPolicy?
    public var position: SourcePosition

    public init(name: String, kind: Kind, linkedServiceName: String, location: Location, availability: Availability,
                external: Bool = false, externalData: ExternalDataPolicy? = nil, validation: ValidationPolicy? = nil,
                position: SourcePosition) {
        self.name = name; self.kind = kind; self.linkedServiceName = linkedServiceName; self.location = location
        self.availability = availability; self.external = external; self.externalData = externalData
        self.validation = validation; self.position = position
    }
}

/// One `partitionedBy` entry: `{name}` in a path becomes `date` formatted with a .NET format.
public struct PartitionToken: Hashable, Sendable {
    public enum DateSource: String, Hashable, Sendable { case sliceStart = "SliceStart", sliceEnd = "SliceEnd" }
    public var name: String
    public var date: DateSource
    /// .NET custom date/time format (docs/SEMANTICS.md D10), e.g. `yyyyMMddHH`.
    public var format: String
    public init(name: String, date: DateSource, format: String) {
        self.name = name; self.date = date; self.format = format
    }
}
