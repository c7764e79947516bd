#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why a file or folder of definitions cannot be read, in words a user can act on
/// ("permission denied", "it is a FIFO (named pipe), not a regular file"), never Foundation's
/// generic "The operation could not be completed".
public struct FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }

    /// The reason for a POSIX error number, e.g. "permission denied".
    public static func posix(_ code: Int32) -> FileReadError {
        FileReadError(String(cString: strerror(code)).lowercased())
    }
}

/// What is at a path, following symbolic links.
public enum FileEntry: Sendable, Equatable {
    /// A regular file; `id` identifies it across paths (device and inode), so a file reached
    /// through two links is read once.
    case file(id: FileIdentity, size: Int64)
    case directory(id: FileIdentity)
    /// Something that exists but holds no definitions: a FIFO, a socket, a device.
    case other(kind: String)
    /// Nothing usable: a dangling link, a link loop, permission denied on a parent.
    case unreadable(FileReadError)
}

/// Device and inode of a file or folder.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public init(device: UInt64, inode: UInt64) { self.device = device; self.inode = inode }
}

/// The file operations the loader needs, so tests can inject failures that cannot be produced
/// for real (permission denied when the tests run as root).
public protocol DefinitionFileSystem: Sendable {
    func entry(atPath path: String) -> FileEntry
    /// The names in a folder, unsorted, without `.` and `..`.
    func contentsOfDirectory(atPath path: String) throws(FileReadError) -> [String]
    /// The file's bytes; more than `limit` bytes is an error.
    func contents(atPath path: String, limit: Int) throws(FileReadError) -> Data
}

/// The real file system, through POSIX calls so every failure keeps its `errno` reason.
public struct LocalFileSystem: DefinitionFileSystem {
    public init() {}

    public func entry(atPath path: String) -> FileEntry {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let code = errno
            var link = stat()
            if code == ENOENT, lstat(path, &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                return .unreadable(FileReadError("it is a symbolic link to '\(target)', which does not exist"))
            }
            if code == ELOOP {
                return .unreadable(FileReadError("it is a symbolic link that leads back to itself (a link loop)"))
            }
            return .unreadable(.posix(code))
        }
        let id = FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .file(id: id, size: Int64(status.st_size))
        case S_IFDIR: return .directory(id: id)
        case S_IFIFO: return .other(kind: "a FIFO (named pipe)")
        case S_IFSOCK: return .other(kind: "a socket")
        case S_IFCHR: return .other(kind: "a character device")
        case S_IFBLK: return .other(kind: "a block device")
        default: return .other(kind: "not a regular file")
        }
    }

    public func contentsOfDirectory(atPath path: String) throws(FileReadError) -> [String] {
        guard let directory = opendir(path) else { throw .posix(errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw .posix(errno) }
                break
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func contents(atPath path: String, limit: Int) throws(FileReadError) -> Data {
        // O_NONBLOCK: a FIFO swapped in after `entry` was checked must not hang the reader.
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw .posix(errno) }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .posix(errno)
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            if data.count > limit { throw FileReadError("it is larger than \(DefinitionLoader.describe(bytes: limit))") }
        }
        return data
    }
}
