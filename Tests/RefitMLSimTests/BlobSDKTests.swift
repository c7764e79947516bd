import Foundation
import RefitTestKit
import Testing

@testable import RefitMLSim

@Suite("Blob service with the Azure Storage SDK for Python, against a full emulator")
struct BlobSDKTests {
    /// `Support/blob_sdk_check.py` and `Support/blob_sdk_io.py`, beside this file.
    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support")
    static let script = support.appendingPathComponent("blob_sdk_check.py")
    static let io = support.appendingPathComponent("blob_sdk_io.py")

    @Test("azure-storage-blob with the printed connection string: create, upload, list, download, delete; forged key 403; SAS both ways")
    func pythonSDK() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        // A blob the emulator exposes through a SAS it minted: a finished job's evaluation output.
        let finished = try await emu.train(csv: linearCSV())
        let output2 = try emu.location(finished.status, "output2")
        let sasURL = "\(output2["BaseLocation"]!)\(output2["RelativeLocation"]!)\(output2["SasBlobToken"]!)"
        let expected = try await emu.fetch(output2).text
        #expect(expected.hasPrefix("Metric,Value"))

        let result = try await runProcess("/usr/bin/env", ["python3", Self.script.path, emu.info.storage.connectionString,
                                                            sasURL, expected, emu.info.storage.sasToken])
        #expect(result.status == 0, "blob_sdk_check.py failed:\n\(result.output)")
        #expect(result.output.contains("blob_sdk_check: ok"))
        // The SDK's calls went through the emulator's operations log, without their query strings.
        let records = try await emu.operations()
        let ops = records.compactMap { $0["op"] as? String }
        #expect(ops.contains("container-create") && ops.contains("blob-put") && ops.contains("blob-delete"))
        #expect(ops.contains("block-put") && ops.contains("blocklist-put") && ops.contains("container-delete"))
        #expect(records.allSatisfy { !(($0["path"] as? String) ?? "?").contains("?") })
    }

    @Test("a BES job reads its input uploaded by the SDK (SDK-minted SAS) and writes outputs the SDK reads through the Results SAS")
    func besJobWithSDK() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let connection = emu.info.storage.connectionString
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("refit-train-\(UUID().uuidString).csv")
        try Data(linearCSV().utf8).write(to: csv)
        defer { try? FileManager.default.removeItem(at: csv) }
        let upload = try await runProcess("/usr/bin/env", ["python3", Self.io.path, "upload", connection, "sdkdata",
                                                            "slices/2016-02-13/train.csv", csv.path])
        #expect(upload.status == 0, "upload failed: \(upload.output)")
        let sas = try await runProcess("/usr/bin/env", ["python3", Self.io.path, "sas", connection, "sdkdata",
                                                         "slices/2016-02-13/train.csv"])
        #expect(sas.status == 0, "sas failed: \(sas.output)")
        let token = "?" + sas.output.trimmingCharacters(in: .whitespacesAndNewlines)

        func input(_ sasBlobToken: String) -> [String: Any] {
            ["BaseLocation": emu.info.storage.blobEndpoint + "/", "RelativeLocation": "sdkdata/slices/2016-02-13/train.csv",
             "SasBlobToken": sasBlobToken]
        }
        // A token whose signature was tampered with does not verify.
        let forged = token.replacingOccurrences(of: "sig=", with: "sig=AAAA")
        let refused = try await emu.submit(["Inputs": ["input1": input(forged)]])
        #expect(refused.status == 400)
        #expect(refused.detailCode == "InvalidBlob")

        let id = try await emu.submitJob(["Inputs": ["input1": input(token)],
                                          "Outputs": ["output1": emu.ref("sdkout/run1/model.ilearner"),
                                                      "output2": emu.ref("sdkout/run1/eval.csv")]])
        #expect(try await emu.start(id).status == 200)
        let done = try await emu.waitForJob(id)
        #expect(done["StatusCode"] as? String == "Finished")
        for (output, check) in [("output1", "refit-mlsim-linear"), ("output2", "Metric,Value\nRMSE,")] {
            let location = try emu.location(done, output)
            let url = "\(location["BaseLocation"]!)\(location["RelativeLocation"]!)\(location["SasBlobToken"]!)"
            let download = try await runProcess("/usr/bin/env", ["python3", Self.io.path, "download", url])
            #expect(download.status == 0, "download of \(output) failed: \(download.output)")
            #expect(download.output.replacingOccurrences(of: " ", with: "").contains(check), "\(output): \(download.output)")
        }
    }
}

/// Runs a program to completion without blocking the cooperative thread pool; returns its exit status and
/// combined stdout+stderr.
private func runProcess(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("refit-blob-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try launchProcess(process)
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    try handle.close()
    return (status, String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self))
}
