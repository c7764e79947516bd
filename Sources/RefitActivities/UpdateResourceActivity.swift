import Foundation
import RefitCore
import RefitStorage

/// What an update-resource execution did.
public struct UpdateResourceOutcome: Hashable, Sendable {
    public var endpoint: String
    /// `container/path` of the model now serving.
    public var modelLocation: String
    /// False when the journal showed this model already applied to this endpoint (no PATCH sent).
    public var patched: Bool
}

/// `AzureMLUpdateResource`: PATCH the updatable endpoint so its trained-model resource points
/// at this window's model, unless the journal shows that exact model already applied there.
public struct UpdateResourceActivity: Sendable {
    /// How long the SAS handed to the endpoint stays valid (it reads the model once).
    public var sasLifetime: TimeInterval = 24 * 3600
    /// PATCH even when the journal shows this model applied before (a rollback puts back a model
    /// the endpoint served earlier, and a newer one serves now).
    public var alwaysPatch = false

    public init(alwaysPatch: Bool = false) { self.alwaysPatch = alwaysPatch }

    public func execute(_ context: ActivityContext) async throws(ActivityError) -> UpdateResourceOutcome {
        guard case .azureMLUpdateResource(let spec) = context.activity.kind else {
            throw ActivityError(.configuration, "Activity '\(context.activity.name)' is not an AzureMLUpdateResource activity.")
        }
        let (ml, apiKey, serviceName) = try context.azureML()
        guard let endpointSetting = ml.updateResourceEndpoint else {
            throw ActivityError(.configuration, "The AzureML linked service of activity '\(context.activity.name)' has no updateResourceEndpoint.")
        }
        let endpoint = try context.secrets.value(of: endpointSetting, what: "updateResourceEndpoint of '\(serviceName)'")
        let (account, path) = try modelLocation(spec, context)
        let (container, blob) = try splitBlobPath(path)

        let journal = context.journal
        let intent = ["endpoint": endpoint, "model": path, "resource": spec.trainedModelName]
        if !alwaysPatch, let previous = try context.journalCall({ try journal.lookup(step: "patch") }), previous.state == .done,
           previous.intent == intent {
            return UpdateResourceOutcome(endpoint: endpoint, modelLocation: path, patched: false)
        }
        let token = BlobSAS.blobToken(account: account, container: container, blob: blob,
                                      expiry: context.clock.now.date.addingTimeInterval(sasLifetime))
        let location = BlobReference(relativeLocation: path, baseLocation: account.blobEndpoint + "/", sasBlobToken: token)
        try context.journalCall { try journal.record(intent: intent, step: "patch") }
        do {
            try await AzureMLManagementClient(http: context.http)
                .updateResource(endpointURL: endpoint, apiKey: apiKey, resourceName: spec.trainedModelName, location: location)
        } catch {
            try? journal.record(failure: ["message": error.message], step: "patch")
            throw error
        }
        // Written with the attempt's outcome (the deployment it records), not in a commit of its
        // own: a crash in between leaves the PATCH in doubt either way, and it is done again.
        try context.journalCall { try journal.record(laterResult: intent, step: "patch") }
        try context.journalCall { try journal.handOver() }
        return UpdateResourceOutcome(endpoint: endpoint, modelLocation: path, patched: true)
    }

    /// v1: the `trainedModelDatasetName` dataset's slice for this window; v2 (D12):
    /// `trainedModelLinkedServiceName` + `trainedModelFilePath`.
    func modelLocation(_ spec: Activity.UpdateResource, _ context: ActivityContext) throws(ActivityError)
        -> (AzureStorageAccount, String)
    {
        if let datasetName = spec.trainedModelDatasetName {
            let dataset = try context.dataset(datasetName)
            guard dataset.kind == .azureBlob else {
                throw ActivityError(.configuration, "Trained model dataset '\(datasetName)' must be an AzureBlob dataset.")
            }
            return (try context.storageAccount(dataset.linkedServiceName), try context.path(of: dataset))
        }
        guard let service = spec.trainedModelLinkedServiceName, let path = spec.trainedModelFilePath, !path.isEmpty else {
            throw ActivityError(.configuration, "Activity '\(context.activity.name)' needs trainedModelDatasetName, or trainedModelLinkedServiceName and trainedModelFilePath.")
        }
        return (try context.storageAccount(service), path.hasPrefix("/") ? String(path.dropFirst()) : path)
    }
}
