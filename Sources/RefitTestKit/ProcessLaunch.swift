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

/// Closes the test process's end of a child's output pipe once it has been read to the end.
/// Foundation keeps a `Process` (and its pipes) alive for as long as it has not seen the child
/// exit, which it often misses (see `ChildExit`), so without this every child left its pipes
/// open: over a thousand descriptors by the end of `make test`. That many also set off a
/// Foundation bug: `Process.run()` lists `/proc/self/fd` and reads 256 bytes of every entry,
/// past the end of its buffer once the list no longer fits in one read.
public func closeReadEnd(of pipe: Pipe) {
    try? pipe.fileHandleForReading.close()
}

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
