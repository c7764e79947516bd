import Foundation
import Testing

@testable import RefitMLSim

@Suite("Blob service with the Azure Storage SDK for Python")
struct BlobSDKTests {
    /// `Support/blob_sdk_check.py`, beside this file.
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Support/blob_sdk_check.py")

    @Test("azure-storage-blob creates, uploads, lists, downloads, deletes; forged key gets 403; SAS both ways")
    func pythonSDK() async throws {
        try await withBlobServer { service in
            // A blob the emulator itself exposes through a SAS it minted.
            try await service.write(container: "emulator-out", blob: "scores/result.csv",
                                    data: Data("id,score\n1,0.5\n".utf8), contentType: "text/csv")
            let sasURL = service.blobEndpoint + "/emulator-out/scores/result.csv"
                + service.readSASToken(container: "emulator-out", blob: "scores/result.csv", validFor: .seconds(600))

            let result = try await runProcess("/usr/bin/env", ["python3", Self.script.path, service.connectionString,
                                                                sasURL, "id,score\n1,0.5\n"])
            #expect(result.status == 0, "blob_sdk_check.py failed:\n\(result.output)")
            #expect(result.output.contains("blob_sdk_check: ok"))
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
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    try handle.close()
    return (status, String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self))
}
