import Foundation

/// Runs Refit's built executables from tests, the way a user runs them.
public enum BuiltProducts {
    /// The folder holding the built executables: next to the running test bundle, which SwiftPM
    /// places in the same build folder (`.build/<triple>/debug`).
    public static var directory: URL {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        // The runner may be inside `refitPackageTests.xctest/…` on some platforms.
        while dir.path != "/" && dir.lastPathComponent.hasSuffix(".xctest") == false
            && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("refit").path) {
            dir = dir.deletingLastPathComponent()
        }
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir
    }

    public static func executable(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The package root (where Package.swift is), found from this source file.
    public static var packageRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url = url.deletingLastPathComponent() }
        return url
    }
}

/// What a finished process printed and returned.
public struct ProcessResult: Sendable {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a process to completion with a deadline; the process is killed when the deadline passes,
/// so a hanging binary fails the test instead of hanging it.
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                       currentDirectory: URL? = nil, deadline: Duration = .seconds(60)) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try launchProcess(process)
    // Drain both pipes on threads of their own, so a chatty process never blocks on a full pipe
    // and no blocking read ever occupies Swift's (two-thread, on this machine) cooperative pool.
    let outData = LockedData(), errData = LockedData()
    let drained = DispatchSemaphore(value: 0)
    for (pipe, sink) in [(out, outData), (err, errData)] {
        Thread {
            sink.set(readToEnd(pipe.fileHandleForReading))
            closeReadEnd(of: pipe)
            drained.signal()
        }.start()
    }
    let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
    let end = DispatchTime.now() + seconds
    var finished = 0
    while finished < 2, drained.wait(timeout: end) == .success { finished += 1 }
    if finished < 2 {
        kill(process.processIdentifier, SIGKILL)
        while finished < 2 { drained.wait(); finished += 1 }
    }
    let status = ChildExit.wait(for: process) ?? -1
    return ProcessResult(exitCode: status,
                         stdout: String(decoding: outData.get(), as: UTF8.self),
                         stderr: String(decoding: errData.get(), as: UTF8.self))
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
