import Foundation
import Testing

@testable import RefitMLSim

/// The blob service as part of the full emulator: credentials, fault injection, the operations log and
/// `--state` persistence.
@Suite struct EmulatorBlobTests {
    private func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("refit-mlsim-\(UUID().uuidString)", isDirectory: true)
    }

    /// Put Blob signed with Shared Key by `account` (the emulator's, or a forged one).
    private func sharedKeyPut(_ emu: TestEmulator, _ path: String, account: StorageAccount) async throws -> HTTPResult {
        let url = try #require(URL(string: "\(emu.info.storage.blobEndpoint)/\(path)"))
        let body = Data("a,b\n1,2\n".utf8)
        let headers = ["x-ms-date": BlobDates.rfc1123(Date()), "x-ms-version": "2025-11-05",
                       "x-ms-blob-type": "BlockBlob", "Content-Length": String(body.count), "Content-Type": "text/csv"]
        let head = BlobRequestHead(method: "PUT", rawPath: url.path, rawQuery: nil, headers: headers.map { ($0.key, $0.value) })
        var all = headers
        all["Authorization"] = SharedKeyAuthorizer(account: account).authorizationHeader(for: head)
        all.removeValue(forKey: "Content-Type")
        return try await emu.send("PUT", url.absoluteString, body: body, contentType: "text/csv", headers: all)
    }

    @Test func missingExpiredOrForgedCredentialsAre403AuthenticationFailed() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/train.csv", Data(linearCSV().utf8))
        let blobURL = "\(emu.info.storage.blobEndpoint)/data/train.csv"
        // Read back with the printed account SAS.
        let read = try await emu.send("GET", blobURL + emu.info.storage.sasToken)
        #expect(read.status == 200 && read.text == linearCSV())

        let real = try StorageAccount(name: emu.info.storage.accountName, key: emu.info.storage.accountKey)
        let forgedAccount = try StorageAccount(name: emu.info.storage.accountName)  // fresh random key
        #expect(try await sharedKeyPut(emu, "data/signed.csv", account: real).status == 201)
        let forgedPut = try await sharedKeyPut(emu, "data/forged.csv", account: forgedAccount)
        let expiredSAS = "?" + SASToken.signAccount(account: real, permissions: "r", resourceTypes: "o",
                                                    expiry: Date().addingTimeInterval(-60))
        let forgedSAS = "?" + SASToken.signAccount(account: forgedAccount, permissions: "rwdlac", resourceTypes: "sco",
                                                   expiry: BlobService.accountSASExpiry)
        let refused = [
            forgedPut,
            try await emu.send("GET", blobURL),
            try await emu.send("GET", blobURL + expiredSAS),
            try await emu.send("GET", blobURL + forgedSAS),
            try await emu.putBlob("data/evil.csv", Data("x".utf8), sas: forgedSAS),
        ]
        for result in refused {
            #expect(result.status == 403)
            #expect(result.header("x-ms-error-code") == "AuthenticationFailed")
            #expect(!result.text.contains(emu.info.storage.accountKey))
        }
        #expect(try await emu.send("GET", "\(emu.info.storage.blobEndpoint)/data/forged.csv\(emu.info.storage.sasToken)").status == 404)
        #expect(try await emu.send("GET", "\(emu.info.storage.blobEndpoint)/data/evil.csv\(emu.info.storage.sasToken)").status == 404)
    }

    @Test func printedAccountSASListsWithEnumerationResults() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        try await emu.upload("data/2016/a.csv", Data("x\n".utf8))
        try await emu.upload("data/2017/b.csv", Data("y\n".utf8))
        let sas = emu.info.storage.sasToken
        #expect(sas.hasPrefix("?sv=") && sas.contains("ss=b") && sas.contains("srt=sco") && sas.contains("sp=rwdlac"))
        let listing = try await emu.send("GET", "\(emu.info.storage.blobEndpoint)/data\(sas)&restype=container&comp=list&prefix=2016/")
        #expect(listing.status == 200)
        #expect(listing.text.contains("<EnumerationResults") && listing.text.contains("<Name>2016/a.csv</Name>"))
        #expect(!listing.text.contains("2017/b.csv"))
        let deleted = try await emu.send("DELETE", "\(emu.info.storage.blobEndpoint)/data/2016/a.csv\(sas)")
        #expect(deleted.status == 202)
    }

    @Test func blobFaultsAnswerLikeAzureAndEveryMutatingBlobCallIsLogged() async throws {
        var faults = FaultSettings()
        try faults.add(spec: "blob:503:count=1")
        let emu = try await TestEmulator.start { $0.faults = faults }
        defer { Task { await emu.stop() } }
        let container = "\(emu.info.storage.blobEndpoint)/data\(emu.info.storage.sasToken)&restype=container"
        let busy = try await emu.send("PUT", container)
        #expect(busy.status == 503)
        #expect(busy.header("x-ms-error-code") == "ServerBusy")
        #expect(busy.header("Retry-After") == "1")
        #expect(try await emu.send("PUT", container).status == 201)
        #expect(try await emu.putBlob("data/train.csv", Data(linearCSV().utf8)).status == 201)
        #expect(try await emu.send("GET", "\(emu.info.storage.blobEndpoint)/data/train.csv\(emu.info.storage.sasToken)").status == 200)
        #expect(try await emu.send("DELETE", "\(emu.info.storage.blobEndpoint)/data/train.csv\(emu.info.storage.sasToken)").status == 202)

        let records = try await emu.operations()
        let blobRecords = records.filter { ($0["path"] as? String)?.hasPrefix("/\(emu.info.storage.accountName)/") == true }
        let summary = blobRecords.map { "\($0["op"] as? String ?? "?") \($0["status"] as? Int ?? 0)" }
        // The model blob the emulator seeds itself is written directly, not over HTTP, so it is not in the log.
        #expect(summary == ["container-create 503", "container-create 201", "blob-put 201", "blob-delete 202"])
        #expect(blobRecords.first?["fault"] as? String == "503")
        #expect(blobRecords[2]["resourceLocation"] as? String == "data/train.csv")
        #expect(records.allSatisfy { !(($0["path"] as? String) ?? "?").contains("?") })
    }

    @Test func restartWithStateKeepsBlobsTheAccountKeyAndTheAccountSAS() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try await TestEmulator.start { $0.stateDirectory = dir }
        try await first.upload("data/train.csv", Data(linearCSV().utf8))
        let key = first.info.storage.accountKey
        let sas = first.info.storage.sasToken
        await first.stop()

        let second = try await TestEmulator.start { $0.stateDirectory = dir; $0.seed = 99 }
        defer { Task { await second.stop() } }
        #expect(second.info.storage.accountKey == key)
        #expect(second.info.storage.sasToken == sas)
        #expect(second.info.storage.connectionString.contains("AccountKey=\(key);"))
        let read = try await second.send("GET", "\(second.info.storage.blobEndpoint)/data/train.csv\(sas)")
        #expect(read.status == 200 && read.text == linearCSV())
        // The persisted blob is a valid job input after the restart.
        let id = try await second.submitJob(second.trainingRequest())
        #expect(try await second.start(id).status == 200)
        #expect(try await second.waitForJob(id)["StatusCode"] as? String == "Finished")
    }
}
