import Foundation

/// Everything the emulator persists in `<state>/state.json`: ids, keys, endpoints, models and jobs.
struct WorkspaceState: Codable, Sendable {
    var workspaceId: String
    var managementToken: String
    var storageAccountName: String
    var storageAccountKey: String
    var training: WebServiceState
    var predictive: WebServiceState
    var jobs: [String: JobRecord]

    /// Resource name of the predictive service's trained model, as on the Update Resource help page.
    static let trainedModelName = "Refit Demo Model [trained model]"
    /// Blob holding the fixed initial model every predictive endpoint starts from.
    static let initialModelPath = BlobPath(container: "models", blob: "initial.ilearner")

    static func fresh(using rng: inout SeededGenerator, now: Date) -> WorkspaceState {
        func endpoint(_ name: String, isDefault: Bool, model: LinearModel?) -> EndpointState {
            EndpointState(name: name, serviceId: hexId(&rng), primaryKey: apiKey(&rng), secondaryKey: apiKey(&rng),
                          description: isDefault ? "Default endpoint" : "Endpoint \(name)", creationTime: now,
                          throttleLevel: "Low", maxConcurrentCalls: 4, isDefault: isDefault,
                          model: model, modelLocation: model == nil ? nil : initialModelPath, pending: nil)
        }
        return WorkspaceState(
            workspaceId: hexId(&rng), managementToken: apiKey(&rng),
            storageAccountName: "refitstore", storageAccountKey: apiKey(&rng),
            training: WebServiceState(id: hexId(&rng), name: "Refit Demo Model [Training]", kind: .training,
                                      endpoints: [endpoint("default", isDefault: true, model: nil)]),
            predictive: WebServiceState(id: hexId(&rng), name: "Refit Demo Model [Predictive]", kind: .predictive,
                                        endpoints: [endpoint("default", isDefault: true, model: .initial),
                                                    endpoint("retrain", isDefault: false, model: .initial)]),
            jobs: [:])
    }

    static func hexId(_ rng: inout SeededGenerator) -> String {
        (0..<2).map { _ in
            let value = rng.next()
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    static func apiKey(_ rng: inout SeededGenerator) -> String {
        var bytes = [UInt8]()
        for _ in 0..<8 { withUnsafeBytes(of: rng.next()) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }
}

/// A blob address inside the emulator's storage account.
struct BlobPath: Codable, Sendable, Equatable {
    var container: String
    var blob: String
    var relativeLocation: String { "\(container)/\(blob)" }
}

struct WebServiceState: Codable, Sendable {
    enum Kind: String, Codable { case training, predictive }
    var id: String
    var name: String
    var kind: Kind
    var endpoints: [EndpointState]
}

struct EndpointState: Codable, Sendable {
    var name: String
    var serviceId: String
    var primaryKey: String
    var secondaryKey: String
    var description: String
    var creationTime: Date
    var throttleLevel: String
    var maxConcurrentCalls: Int
    var isDefault: Bool
    /// Model answering RRS calls (predictive service only).
    var model: LinearModel?
    /// Blob the current model came from; shown as `Resources[].Location`.
    var modelLocation: BlobPath?
    /// A PATCHed model waiting for its propagation delay.
    var pending: PendingSwap?

    func accepts(_ key: String?) -> Bool {
        guard let key, !key.isEmpty else { return false }
        return constantTimeEqual(key, primaryKey) || constantTimeEqual(key, secondaryKey)
    }

    /// Applies a pending swap whose time has come.
    mutating func settle(now: Date) -> Bool {
        guard let swap = pending, swap.effectiveAt <= now else { return false }
        model = swap.model
        pending = nil
        return true
    }
}

struct PendingSwap: Codable, Sendable {
    var model: LinearModel
    var location: BlobPath
    var effectiveAt: Date
}

/// Lifecycle of a BES job (names as the service emits them).
enum JobState: String, Codable, Sendable {
    case notStarted = "NotStarted", running = "Running", failed = "Failed", cancelled = "Cancelled", finished = "Finished"
}

struct JobRecord: Codable, Sendable {
    var id: String
    var serviceId: String
    var state: JobState
    var input: BlobPath
    var outputs: [String: BlobPath]
    var labelColumn: String?
    var details: String?
    var createdAt: Date
    var startTime: Date?
    var endTime: Date?
    /// Set when fault injection decided at start that this job must fail.
    var injectedFailure: String?
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in x.indices { diff |= x[i] ^ y[i] }
    return diff == 0
}
