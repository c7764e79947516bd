import Foundation

/// Starts child processes one at a time across the test process. Foundation's `Process.run()`
/// on Linux crashed (a bad read inside it) when many tests launched children at once; the launch
/// itself takes a millisecond, so serializing it costs nothing the tests notice.
public func launchProcess(_ process: Process) throws {
    launchLock.lock()
    defer { launchLock.unlock() }
    try process.run()
}

private let launchLock = NSLock()

/// The next bytes of `handle` (empty at end of file). Unlike `FileHandle.availableData`, which
/// stops the process on `EINTR`, an interrupted read (a child's exit signal arriving) is retried.
public func readChunk(_ handle: FileHandle) -> Data {
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = read(handle.fileDescriptor, &buffer, buffer.count)
        if count >= 0 { return Data(buffer[0..<count]) }
        if errno != EINTR { return Data() }
    }
}

/// Everything `handle` yields until end of file, reading through `readChunk`.
public func readToEnd(_ handle: FileHandle) -> Data {
    var data = Data()
    while true {
        let chunk = readChunk(handle)
        if chunk.isEmpty { return data }
        data.append(chunk)
    }
}
