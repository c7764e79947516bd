import Foundation

/// The one-line JSON description printed first on stdout, which scripts and tests read to find
/// URLs and keys of a running emulator.
public struct InstanceInfo: Codable, Sendable, Equatable {
    public struct Storage: Codable, Sendable, Equatable {
        public var accountName: String
        public var accountKey: String
        public var blobEndpoint: String
        public var connectionString: String
        /// Account SAS for the Blob service (`ss=b&srt=sco&sp=rwdlac`, leading `?`), for clients without a
        /// Shared Key signer: `curl -H 'x-ms-blob-type: BlockBlob' -T f "$blobEndpoint/container/blob$sasToken"`.
        public var sasToken: String
    }

    public struct Training: Codable, Sendable, Equatable {
        public var webServiceId: String
        public var serviceId: String
        /// BES jobs URL, with `?api-version=2.0`.
        public var jobsURL: String
        public var apiKey: String
        public var managementURL: String
    }

    public struct Endpoint: Codable, Sendable, Equatable {
        public var name: String
        public var serviceId: String
        public var apiKey: String
        /// RRS URL, with `?api-version=2.0`.
        public var executeURL: String
        public var managementURL: String
        public var trainedModelName: String
        /// False for the default endpoint, whose model cannot be replaced.
        public var patchable: Bool
    }

    public struct Predictive: Codable, Sendable, Equatable {
        public var webServiceId: String
        public var endpoints: [Endpoint]
    }

    public var baseURL: String
    public var workspaceId: String
    /// Workspace authorization token: accepted by management and admin routes.
    public var managementToken: String
    public var adminURL: String
    public var stateDirectory: String?
    public var storage: Storage
    public var training: Training
    public var predictive: Predictive

    /// Compact single-line JSON with stable key order.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The endpoint with that name.
    public func endpoint(_ name: String) -> Endpoint? {
        predictive.endpoints.first { $0.name == name }
    }
}
