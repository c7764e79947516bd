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

extension Factory {
    /// For each pipeline, the environment variables its linked services read (settings and
    /// secrets written `{"env": NAME}`, for its activities' services and its datasets' stores)
    /// that are unset or empty in `environment`; pipelines lacking none are left out. `tick` and
    /// `run` name these at start: such a pipeline's attempts fail retryably until they are set.
    public func unsetVariables(environment: [String: String]) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (name, pipeline) in pipelines {
            var services = Set<String>()
            for activity in pipeline.activities {
                if let service = activity.linkedServiceName { services.insert(service) }
                for dataset in activity.inputs.map(\.name) + activity.outputs {
                    if let service = datasets[dataset]?.linkedServiceName { services.insert(service) }
                }
            }
            let missing = Set(services.compactMap { linkedServices[$0] }.flatMap(\.environmentVariables))
                .filter { (environment[$0] ?? "").isEmpty }
            if !missing.isEmpty { result[name] = missing.sorted() }
        }
        return result
    }
}

extension LinkedService {
    /// The environment variables this service's settings and secrets name.
    public var environmentVariables: [String] {
        var secrets: [Secret?] = []
        var settings: [Setting?] = []
        switch kind {
        case .azureML(let ml):
            settings += [ml.mlEndpoint, ml.updateResourceEndpoint]
            secrets += [ml.apiKey, ml.servicePrincipalId, ml.servicePrincipalKey, ml.tenant]
        case .azureStorage(let storage):
            secrets += [storage.connectionString, storage.sasUri]
        case .awsAccessKey(let aws):
            secrets += [aws.accessKeyId, aws.secretAccessKey]
            settings.append(aws.serviceUrl)
        case .fileServer(let server):
            secrets += [server.userId, server.password]
        }
        let fromSecrets = secrets.compactMap { secret -> String? in
            if case .environment(let name)? = secret?.source { return name }
            return nil
        }
        let fromSettings = settings.compactMap { setting -> String? in
            if case .environment(let name)? = setting?.source { return name }
            return nil
        }
        return fromSecrets + fromSettings
    }
}
