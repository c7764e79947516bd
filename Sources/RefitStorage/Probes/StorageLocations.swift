import Foundation
import RefitCore
import RefitDefinitions
import RefitHTTP

/// Builds the ``StorageLocation`` of each dataset from its linked service: the worker asks once per
/// dataset and probes through the result. Secrets are resolved here (environment, secret files
/// relative to the schedules folder); a credential that cannot be resolved yields a location whose
/// every probe fails, not retryable, naming the variable or file — never a value.
public struct StorageLocations: Sendable {
    public let factory: Factory
    public let environment: [String: String]
    /// The schedules folder: relative FileServer hosts and secret files are resolved against it.
    public let baseDirectory: String
    private let http: HTTPClient
    private let observer: ProbeObserver?

    public init(factory: Factory, environment: [String: String] = ProcessInfo.processInfo.environment,
                baseDirectory: String, http: HTTPClient, observer: ProbeObserver? = nil) {
        self.factory = factory
        self.environment = environment
        self.baseDirectory = baseDirectory
        self.http = http
        self.observer = observer
    }

    /// The location probing `dataset`; nil when its linked service is not a store Refit can probe
    /// (an unknown name or a non-storage service — definitions validation reports those).
    public func location(for dataset: Dataset) -> (any StorageLocation)? {
        guard let service = factory.linkedServices[dataset.linkedServiceName] else { return nil }
        let secrets = SecretResolver(environment: environment, baseDirectory: baseDirectory)
        func secret(_ value: Secret, _ what: String) -> Result<String, ProbeFailure> {
            do {
                return .success(try secrets.resolve(value))
            } catch {
                return .failure(ProbeFailure("The \(what) of linked service '\(service.name)' cannot be resolved: \(error.description).",
                                             retryable: false))
            }
        }
        switch (dataset.kind, service.kind) {
        case (.fileShare, .fileServer(let server)):
            return LocalFolderLocation(host: server.host, baseDirectory: baseDirectory, observer: observer)

        case (.amazonS3, .awsAccessKey(let aws)):
            let secretKey: String
            switch secret(aws.secretAccessKey, "secretAccessKey") {
            case .failure(let failure): return FailingLocation(failure: failure)
            case .success(let value): secretKey = value
            }
            var serviceURL: String?
            if let setting = aws.serviceUrl {
                guard let value = setting.resolve(environment: environment) else {
                    return FailingLocation(failure: ProbeFailure(
                        "The serviceUrl of linked service '\(service.name)' comes from \(setting), which is not set.",
                        retryable: false))
                }
                serviceURL = value
            }
            let keyID: String
            switch secret(aws.accessKeyId, "accessKeyId") {
            case .failure(let failure): return FailingLocation(failure: failure)
            case .success(let value): keyID = value
            }
            let region = aws.region.flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
            let credentials = SigV4Credentials(region: region, accessKeyId: keyID, secretAccessKey: secretKey)
            return S3Location(credentials: credentials, serviceURL: serviceURL, http: http, observer: observer)

        case (.azureBlob, .azureStorage(let storage)):
            if let connection = storage.connectionString {
                switch secret(connection, "connectionString") {
                case .failure(let failure): return FailingLocation(failure: failure)
                case .success(let value):
                    do {
                        let account = try AzureStorageAccount(connectionString: value)
                        return AzureBlobLocation(credentials: .sharedKey(account), http: http, observer: observer)
                    } catch {
                        return FailingLocation(failure: ProbeFailure(
                            "Linked service '\(service.name)': \(error.message)", retryable: false))
                    }
                }
            }
            if let sas = storage.sasUri {
                switch secret(sas, "sasUri") {
                case .failure(let failure): return FailingLocation(failure: failure)
                case .success(let value): return AzureBlobLocation(credentials: .sas(uri: value), http: http, observer: observer)
                }
            }
            return FailingLocation(failure: ProbeFailure(
                "Linked service '\(service.name)' has neither a connectionString nor a sasUri.", retryable: false))

        default:
            return nil
        }
    }

    /// ``location(for:)`` as a function value, for code that only needs the lookup.
    public var resolver: @Sendable (Dataset) -> (any StorageLocation)? {
        let me = self
        return { me.location(for: $0) }
    }
}

/// A location whose configuration is unusable: every probe fails the same way.
struct FailingLocation: StorageLocation {
    let failure: ProbeFailure
    func probe(_ slices: [Slice], of dataset: Dataset) async -> [Slice: ProbeOutcome] {
        .all(slices, failure.outcome)
    }
}
