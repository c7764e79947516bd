/// A connection to a store or compute service (`"type"` in ADF's linked service JSON).
public struct LinkedService: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case azureML(AzureML)
        case azureStorage(AzureStorage)
        case awsAccessKey(AwsAccessKey)
        case fileServer(FileServer)
    }

    /// `AzureML`: a classic Azure ML web service (BES jobs URL, key, update-resource endpoint).
    public struct AzureML: Hashable, Sendable {
        /// The Batch Execution jobs URL.
        public var mlEndpoint: Setting
        public var apiKey: Secret
        public var updateResourceEndpoint: Setting?
        /// Identities are `Secret`s too (see `AwsAccessKey.accessKeyId`).
        public var servicePrincipalId: Secret?
        public var servicePrincipalKey: Secret?
        public var tenant: Secret?
        public init(mlEndpoint: Setting, apiKey: Secret, updateResourceEndpoint: Setting? = nil,
                    servicePrincipalId: Secret? = nil, servicePrincipalKey: Secret? = nil, tenant: Secret? = nil) {
            self.mlEndpoint = mlEndpoint; self.apiKey = apiKey; self.updateResourceEndpoint = updateResourceEndpoint
            self.servicePrincipalId = servicePrincipalId; self.servicePrincipalKey = servicePrincipalKey; self.tenant = tenant
        }
    }

    /// `AzureStorage` (connection string) or `AzureStorageSas` (sasUri).
    public struct AzureStorage: Hashable, Sendable {
        public var connectionString: Secret?
        public var sasUri: Secret?
        public init(connectionString: Secret? = nil, sasUri: Secret? = nil) {
            self.connectionString = connectionString; self.sasUri = sasUri
        }
    }

    /// `AwsAccessKey`; `serviceUrl` (extension) points at an S3-compatible store, path-style.
    public struct AwsAccessKey: Hashable, Sendable {
        /// An identity rather than a secret, but kept out of files as often as the key itself,
        /// so it may come from `{"env": …}` or `{"file": …}` like a secret (and is never logged).
        public var accessKeyId: Secret
        public var secretAccessKey: Secret
        public var serviceUrl: Setting?
        public var region: String?
        public init(accessKeyId: Secret, secretAccessKey: Secret, serviceUrl: Setting? = nil, region: String? = nil) {
            self.accessKeyId = accessKeyId; self.secretAccessKey = secretAccessKey; self.serviceUrl = serviceUrl; self.region = region
        }
        /// An inline key id.
        public init(accessKeyId: String, secretAccessKey: Secret, serviceUrl: Setting? = nil, region: String? = nil) {
            self.init(accessKeyId: Secret(.literal(accessKeyId)), secretAccessKey: secretAccessKey, serviceUrl: serviceUrl, region: region)
        }
    }

    /// `OnPremisesFileServer`; in Refit `host` is a local folder.
    public struct FileServer: Hashable, Sendable {
        public var host: String
        /// An identity, written inline or taken from `{"env": …}`/`{"file": …}`.
        public var userId: Secret?
        public var password: Secret?
        public init(host: String, userId: Secret? = nil, password: Secret? = nil) {
            self.host = host; self.userId = userId; self.password = password
        }
    }

    public var name: String
    /// The ADF type name as written (`AzureStorageSas` and `AzureStorage` share `.azureStorage`).
    public var typeName: String
    public var kind: Kind
    public var position: SourcePosition

    public init(name: String, typeName: String, kind: Kind, position: SourcePosition) {
        self.name = name; self.typeName = typeName; self.kind = kind; self.position = position
    }
}
