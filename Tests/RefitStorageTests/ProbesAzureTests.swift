import Foundation
import RefitCore
import RefitHTTP
@testable import RefitStorage
import Testing

private func fingerprint(_ outcome: ProbeOutcome?) -> DataFingerprint? {
    if case .present(let print)? = outcome { return print }
    return nil
}

private func isAbsent(_ outcome: ProbeOutcome?) -> Bool {
    if case .absent? = outcome { return true }
    return false
}

/// A container SAS (`sr=c`, read + list) minted with the account key, as an operator would hand out.
private func containerSAS(_ account: AzureStorageAccount, container: String) -> String {
    let expiry = BlobSAS.iso8601(Date().addingTimeInterval(3600))
    let text = BlobSAS.stringToSign(permissions: "rl", start: "", expiry: expiry,
                                    canonicalizedResource: "/blob/\(account.name)/\(container)", protocols: "https,http",
                                    version: BlobSAS.version, resource: "c")
    let fields = [("sv", BlobSAS.version), ("se", expiry), ("sr", "c"), ("sp", "rl"), ("spr", "https,http"),
                  ("sig", account.sign(text))]
    return account.url(container: container) + "?" + fields.map { "\($0.0)=\(BlobPath.encodeQueryValue($0.1))" }.joined(separator: "&")
}

/// Against refit-mlsim's blob service (Azurite's URL layout), launched from the built binary.
@Suite(.serialized) struct ProbesAzureTests {
    @Test func sharedKeyAndSASProbes() async throws {
        let sim = try MLSimServer()
        defer { sim.stop() }
        let http = HTTPClient(configuration: .init(totalTimeout: .seconds(20)))
        let client = AzureBlobClient(account: sim.account, http: http)
        try await client.createContainer("training")
        for hour in 0..<3 {
            try await client.putBlob(container: "training", blob: String(format: "2026/01/01/%02d.csv", hour),
                                     data: Data("a,b\n\(hour),1\n".utf8))
        }
        let events = ProbeEvents()
        let location = AzureBlobLocation(credentials: .sharedKey(sim.account), http: http, observer: events.observer)
        let dataset = probeDataset(.azureBlob, folder: "training/{Year}/{Month}/{Day}", file: "{Hour}.csv")
        let slices = hourlySlices(24)
        let outcomes = await location.probe(slices, of: dataset)
        #expect(events.lists == 1)
        for (hour, slice) in slices.enumerated() {
            if hour < 3 {
                let file = try #require(fingerprint(outcomes[slice])?.files.first)
                #expect(file.name == String(format: "training/2026/01/01/%02d.csv", hour))
                #expect(file.size == Int64("a,b\n\(hour),1\n".utf8.count))
                #expect(file.etag?.isEmpty == false)
                #expect(file.modified != nil)
            } else {
                #expect(isAbsent(outcomes[slice]))
            }
        }

        // Get Blob Properties for a single slice: the same fingerprint.
        let single = await location.probe([slices[1]], of: dataset)
        #expect(events.heads == 1)
        #expect(fingerprint(single[slices[1]]) == fingerprint(outcomes[slices[1]]))

        // The same probes through a container SAS.
        let sas = AzureBlobLocation(credentials: .sas(uri: containerSAS(sim.account, container: "training")), http: http)
        let viaSAS = await sas.probe(slices, of: dataset)
        #expect(fingerprint(viaSAS[slices[0]]) == fingerprint(outcomes[slices[0]]))
        #expect(isAbsent(viaSAS[slices[5]]))
        let singleViaSAS = await sas.probe([slices[2]], of: dataset)
        #expect(fingerprint(singleViaSAS[slices[2]]) == fingerprint(outcomes[slices[2]]))
    }

    @Test func aForgedKeyIsARetryableFailureWithoutTheKey() async throws {
        let sim = try MLSimServer()
        defer { sim.stop() }
        let http = HTTPClient(configuration: .init(totalTimeout: .seconds(20)))
        try await AzureBlobClient(account: sim.account, http: http).createContainer("training")
        let forgedKey = Data("forged-account-key-material".utf8).base64EncodedString()
        let forged = try AzureStorageAccount(name: sim.account.name, key: forgedKey, blobEndpoint: sim.account.blobEndpoint)
        let location = AzureBlobLocation(credentials: .sharedKey(forged), http: http)
        let slices = hourlySlices(2)
        let outcomes = await location.probe(slices, of: probeDataset(.azureBlob, folder: "training/{Stamp}"))
        for slice in slices {
            guard case .failed(let message, let retryable)? = outcomes[slice] else {
                Issue.record("expected a failure, got \(String(describing: outcomes[slice]))"); continue
            }
            #expect(retryable, "checked again within maximumRetry")
            #expect(message.contains("access denied"))
            #expect(!message.contains(forgedKey))
        }

        let noContainer = await AzureBlobLocation(credentials: .sharedKey(sim.account), http: http)
            .probe([slices[0]], of: probeDataset(.azureBlob, folder: "absent-container/{Stamp}"))
        guard case .failed(let message, let retryable)? = noContainer[slices[0]] else {
            Issue.record("expected a failure, got \(String(describing: noContainer[slices[0]]))"); return
        }
        #expect(!retryable)
        #expect(message.contains("absent-container"))
    }

    @Test func sasURLsKeepTheTokenAndAvoidDoublingTheContainer() {
        #expect(AzureBlobLocation.sasURL("https://acct.blob.core.windows.net/c?sv=1&sig=abc", container: "c", blob: "a b.csv",
                                         query: nil) == "https://acct.blob.core.windows.net/c/a%20b.csv?sv=1&sig=abc")
        #expect(AzureBlobLocation.sasURL("http://127.0.0.1:1/devstoreaccount1?sv=1&sig=abc", container: "c", blob: nil,
                                         query: "restype=container&comp=list")
                == "http://127.0.0.1:1/devstoreaccount1/c?restype=container&comp=list&sv=1&sig=abc")
        #expect(AzureBlobLocation.sasURL("https://acct.blob.core.windows.net/c", container: "c", blob: nil, query: nil) == nil)
    }
}
