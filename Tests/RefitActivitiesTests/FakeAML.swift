import Foundation
import RefitTestKit
import RefitHTTP

/// Launches Support/fake_aml.py for one test (its own state); it exits when this object's
/// stdin pipe closes, so it never outlives the test process.
final class FakeAML: @unchecked Sendable {
    let port: Int
    let key: String
    private let process: Process
    private let stdinPipe: Pipe

    init(mode: String = "ok") throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/fake_aml.py")
        key = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, mode, key]
        stdinPipe = Pipe()
        let out = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try launchProcess(process)
        var data = Data()
        while !data.contains(UInt8(ascii: "\n")) {
            let chunk = readChunk(out.fileHandleForReading)
            if chunk.isEmpty { break }
            data.append(chunk)
        }
        guard let port = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
    }

    deinit {
        try? stdinPipe.fileHandleForWriting.close()
        // Never block here (deinit may run on a cooperative thread): signal and move on.
        if process.isRunning { process.terminate() }
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// The operations log: "METHOD /path" per authorized call.
    func operations() async throws -> [String] {
        let response = try await HTTPClient().send(HTTPRequest(url: base + "/admin/operations"))
        return (try JSONSerialization.jsonObject(with: response.body) as? [String]) ?? []
    }
}
