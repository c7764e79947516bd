import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Wakes the worker as soon as data lands in a local folder tree, so FileShare slices become
/// Ready without waiting for the next poll. It only says "something changed": the worker then
/// probes as usual, and keeps polling as a fallback (events can be missed when the kernel's
/// queue overflows or the watch limit is reached, and on platforms without inotify).
///
/// Linux inotify on the root and every folder below it (folders created later are added as
/// they appear); events are read on a dedicated thread and coalesced for `debounce`.
public final class FolderWatcher: @unchecked Sendable {
    /// One element per burst of changes (create, move in, close after write, delete). Finishes after `stop()`.
    public let changes: AsyncStream<Void>

    private let continuation: AsyncStream<Void>.Continuation
    private let lock = NSLock()
    private var stopped = false
    private let stopWrite: Int32

    /// Starts watching `root` (which must be an existing folder).
    public init(root: String, debounce: Duration = .milliseconds(50)) throws(StorageError) {
        #if canImport(Glibc)
        var info = stat()
        guard stat(root, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw StorageError(.localFile, "Cannot watch \(root): it is not an existing folder.")
        }
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else {
            throw StorageError(.localFile, "Cannot watch \(root): inotify is unavailable (\(String(cString: strerror(errno)))).")
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(fd)
            throw StorageError(.localFile, "Cannot watch \(root): no pipe available (\(String(cString: strerror(errno)))).")
        }
        self.stopWrite = fds[1]
        let ms = debounce.components.seconds * 1000 + debounce.components.attoseconds / 1_000_000_000_000_000
        let debounceMilliseconds = Int32(clamping: max(ms, 0))
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.changes = stream
        self.continuation = continuation
        let reader = EventReader(inotify: fd, stopRead: fds[0], root: root, debounce: debounceMilliseconds,
                                 continuation: continuation)
        reader.addRecursively(root)
        let thread = Thread { reader.run() }
        thread.name = "refit-folder-watcher"
        thread.start()
        #else
        throw StorageError(.localFile, "Cannot watch \(root): folder watching needs Linux inotify; polling only.")
        #endif
    }

    /// Stops the reader thread and finishes `changes`. Safe to call more than once.
    public func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        guard !wasStopped else { return }
        #if canImport(Glibc)
        var byte: UInt8 = 1
        _ = write(stopWrite, &byte, 1)
        #endif
    }

    deinit {
        stop()
        #if canImport(Glibc)
        close(stopWrite)  // the reader thread owns and closes the other descriptors
        #endif
    }
}

#if canImport(Glibc)
/// The reader thread's state: watch descriptors and their folders. Owned by that thread alone.
private final class EventReader: @unchecked Sendable {
    let inotify: Int32
    let stopRead: Int32
    let root: String
    let debounce: Int32
    let continuation: AsyncStream<Void>.Continuation
    var folders: [Int32: String] = [:]

    init(inotify: Int32, stopRead: Int32, root: String, debounce: Int32, continuation: AsyncStream<Void>.Continuation) {
        self.inotify = inotify; self.stopRead = stopRead; self.root = root; self.debounce = debounce
        self.continuation = continuation
    }

    static let mask = UInt32(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE)

    /// Watches `folder` and every folder below it (not following symlinks). A failed watch (limit
    /// reached, folder gone) is skipped: polling still covers it.
    func addRecursively(_ folder: String) {
        let wd = inotify_add_watch(inotify, folder, EventReader.mask | UInt32(IN_ONLYDIR | IN_DONT_FOLLOW))
        guard wd >= 0 else { return }
        folders[wd] = folder
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            addRecursively(folder + "/" + name)
        }
    }

    /// Waits for events until stopped. A finished file (closed after writing, or moved in)
    /// wakes the worker at once; during a burst of changes at most one wake-up per `debounce`
    /// follows, and one more when the burst ends, so the last change is never left unseen.
    func run() {
        defer {
            continuation.finish()
            close(inotify)
            close(stopRead)
        }
        var lastYield = ContinuousClock.now - .seconds(3600)
        let spacing = Duration.milliseconds(Int64(debounce))
        func yieldNow() {
            continuation.yield(())
            lastYield = ContinuousClock.now
        }
        while true {
            guard let ready = wait(timeout: -1) else { return }
            guard ready else { continue }
            guard let finished = drain() else { return }
            var pending = true
            if finished && ContinuousClock.now - lastYield >= spacing { yieldNow(); pending = false }
            while true {
                guard let more = wait(timeout: debounce) else { return }
                if !more { break }
                guard let finished = drain() else { return }
                pending = true
                if finished && ContinuousClock.now - lastYield >= spacing { yieldNow(); pending = false }
            }
            if pending { yieldNow() }
        }
    }

    /// true: inotify readable; false: timeout; nil: stop requested or the descriptors broke.
    private func wait(timeout: Int32) -> Bool? {
        var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: stopRead, events: Int16(POLLIN), revents: 0)]
        while true {
            let n = poll(&fds, 2, timeout)
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if fds[1].revents != 0 { return nil }
            if n == 0 { return false }
            if fds[0].revents & Int16(POLLIN) != 0 { return true }
            return nil
        }
    }

    /// Reads every queued event, watching new folders. nil when the inotify descriptor broke;
    /// else whether a file was finished (closed after writing, or moved in).
    private func drain() -> Bool? {
        var finished = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let header = MemoryLayout<inotify_event>.size
        while true {
            let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            if count < 0 { return errno == EAGAIN || errno == EINTR ? finished : nil }
            if count == 0 { return finished }
            var offset = 0
            var newFolders: [String] = []
            buffer.withUnsafeBytes { raw in
                while offset + header <= count {
                    let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    var name = ""
                    if length > 0 {
                        let bytes = raw[(offset + header)..<min(offset + header + length, count)]
                        name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if mask & UInt32(IN_ISDIR) == 0, mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 { finished = true }
                    if mask & UInt32(IN_IGNORED) != 0 {
                        folders[wd] = nil
                    } else if mask & UInt32(IN_ISDIR) != 0, mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0,
                              let parent = folders[wd], !name.isEmpty {
                        newFolders.append(parent + "/" + name)
                    }
                    offset += header + length
                }
            }
            for folder in newFolders { addRecursively(folder) }
        }
    }
}
#endif
