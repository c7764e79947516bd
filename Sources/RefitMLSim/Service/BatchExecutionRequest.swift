import Foundation

/// A blob reference as BES and the management API send it: either `ConnectionString` +
/// `RelativeLocation`, or `BaseLocation` + `RelativeLocation` + `SasBlobToken`.
struct BlobReference: Codable, Sendable, Equatable {
    var connectionString: String?
    var relativeLocation: String?
    var baseLocation: String?
    var sasBlobToken: String?

    enum CodingKeys: String, CodingKey {
        case connectionString = "ConnectionString", relativeLocation = "RelativeLocation"
        case baseLocation = "BaseLocation", sasBlobToken = "SasBlobToken"
    }
}

/// The BES submit body (docs/AZURE-ML-WIRE-PROTOCOL.md, §1.2 "Submit request body").
struct BatchExecutionRequest: Decodable, Sendable {
    var input: BlobReference?
    var inputs: [String: BlobReference]?
    var outputs: [String: BlobReference]?
    var globalParameters: [String: String]?

    enum CodingKeys: String, CodingKey {
        case input = "Input", inputs = "Inputs", outputs = "Outputs", globalParameters = "GlobalParameters"
    }
}

/// The PATCH body of the update-resource call (docs/AZURE-ML-WIRE-PROTOCOL.md, §2.3 "PATCH body").
struct UpdateResourceRequest: Decodable, Sendable {
    struct Resource: Decodable, Sendable {
        var name: String?
        var location: BlobReference?
        enum CodingKeys: String, CodingKey { case name = "Name", location = "Location" }
    }
    var resources: [Resource]?
    enum CodingKeys: String, CodingKey { case resources = "Resources" }
}

/// The PUT body that adds or updates an endpoint (docs/AZURE-ML-WIRE-PROTOCOL.md, §2 "Classic web-service endpoint management").
struct AddEndpointRequest: Decodable, Sendable {
    var description: String?
    var throttleLevel: String?
    var maxConcurrentCalls: Int?
    enum CodingKeys: String, CodingKey {
        case description = "Description", throttleLevel = "ThrottleLevel", maxConcurrentCalls = "MaxConcurrentCalls"
    }
}

/// Parses `Key=Value;Key=Value` storage connection strings.
func parseConnectionString(_ text: String) -> [String: String] {
    var items: [String: String] = [:]
    for part in text.split(separator: ";") {
        let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
        guard kv.count == 2 else { continue }
        items[kv[0].trimmingCharacters(in: .whitespaces).lowercased()] = kv[1].trimmingCharacters(in: .whitespaces)
    }
    return items
}
