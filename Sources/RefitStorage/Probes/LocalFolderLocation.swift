import Foundation
import RefitCore
import RefitDefinitions
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// FileShare datasets: the linked service's `host` is a local folder (relative hosts are
/// resolved against the schedules folder), and `folderPath`/`fileName` are paths under it.
///
/// One probe call walks the folder tree once, from the deepest folder common to every slice,
/// descending only into folders on the way to a slice's data, so a day of hourly slices costs
/// one directory walk rather than 24.
public struct LocalFolderLocation: StorageLocation {
    /// The absolute host folder every dataset path is relative to.
    public let root: String
    private let observer: ProbeObserver?

    /// - Parameters:
    ///   - host: the FileServer linked service's `host`; absolute, `~/`-relative, or relative to `baseDirectory`.
    ///   - baseDirectory: the schedules folder.
    ///   - observer: told about each directory walk (debug logs, tests).
    public init(host: String, baseDirectory: String, observer: ProbeObserver? = nil) {
        // Resolved as the activities resolve the same host (`ActivityContext`), then standardized;
        // against an absolute base, `resolvePath` gives an absolute path.
        root = Self.standardized(SecretResolver.resolvePath(host, base: SecretResolver.absolutePath(baseDirectory)))
        self.observer = observer
    }

    /// An absolute path without empty, `.` and `..` components (`..` of the root is the root) and
    /// without a trailing `/`: what `URL.standardizedFileURL` gives, worked out on the text, as
    /// nothing here may follow a link. `URL` costs a few tenths of a millisecond on first use.
    static func standardized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    public func probe(_ slices: [Slice], of dataset: Dataset) async -> [Slice: ProbeOutcome] {
        let runs = Self.runs(of: slices, processors: Self.processors)
        guard runs.count > 1 else { return probe(run: slices, of: dataset) }
        return await withTaskGroup(of: [Slice: ProbeOutcome].self) { group in
            for run in runs { group.addTask { self.probe(run: run, of: dataset) } }
            var result: [Slice: ProbeOutcome] = [:]
            result.reserveCapacity(slices.count)
            for await part in group { result.merge(part) { first, _ in first } }
            return result
        }
    }

    /// A large probe (a backlog, or the changed-data sweep of a day's Ready slices) is cut into
    /// contiguous runs of slices in time order, one per processor and at least `minimumRun`
    /// long, walked side by side: most of a walk is one `fstatat` per file, and the processors
    /// are otherwise idle while a tick waits for it. Consecutive slices share their folders, so
    /// only a folder on the border of two runs is listed twice.
    static func runs(of slices: [Slice], processors: Int) -> [ArraySlice<Slice>] {
        let count = min(processors, slices.count / minimumRun)
        guard count > 1 else { return [slices[...]] }
        let sorted = slices.sorted()
        let size = (sorted.count + count - 1) / count
        return stride(from: 0, to: sorted.count, by: size).map { sorted[$0..<min($0 + size, sorted.count)] }
    }

    static let minimumRun = 256
    private static let processors = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// One walk for `slices`: their paths, the folders on the way to them, one index of the files.
    private func probe<Slices: Collection<Slice>>(run slices: Slices, of dataset: Dataset) -> [Slice: ProbeOutcome] {
        var result: [Slice: ProbeOutcome] = [:]
        var targets: [Slice: SliceTarget] = [:]
        let resolver = SliceTarget.Resolver(dataset.location)
        for slice in slices {
            switch resolver.resolve(slice) {
            case .failure(let failure): result[slice] = failure.outcome
            case .success(let target): targets[slice] = target
            }
        }
        guard !targets.isEmpty else { return result }

        var info = stat()
        if stat(root, &info) != 0 {
            let code = errno
            let message = code == ENOENT
                ? "The file server folder \(root) does not exist."
                : "The file server folder \(root) cannot be read: \(LocalFolderLocation.describe(code))."
            for slice in targets.keys { result[slice] = .failed(message: message, retryable: true) }
            return result
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            for slice in targets.keys {
                result[slice] = .failed(message: "The file server host \(root) is not a folder.", retryable: true)
            }
            return result
        }

        var plan = WalkPlan()
        for target in targets.values { plan.add(target) }
        let start = plan.start
        observer?(.walk(root: start.isEmpty ? root : root + "/" + start))
        var walk = Walk(root: root, plan: plan)
        walk.visit(start, recursive: plan.deep.contains(start))
        let index = FileIndex(walk.entries)

        for (slice, target) in targets {
            if let failure = walk.failure(for: target) {
                result[slice] = failure.outcome
            } else {
                result[slice] = target.evaluate(index)
            }
        }
        return result
    }

    static func describe(_ code: Int32) -> String {
        switch code {
        case EACCES, EPERM: return "permission denied"
        case ENOTDIR: return "a path component is a file, not a folder"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}

/// Which folders a walk needs: listed recursively (`deep`), their own files only (`shallow`),
/// or only passed through (`ancestors`, which holds every wanted folder and its parents).
struct WalkPlan {
    var deep: Set<String> = []
    var shallow: Set<String> = []
    var ancestors: Set<String> = [""]

    mutating func add(_ target: SliceTarget) {
        if target.file == nil { want(target.folder, deep: true) }
        if let file = target.file { want(SliceTarget.parent(of: file), deep: false) }
        if let marker = target.marker { want(SliceTarget.parent(of: marker), deep: false) }
    }

    private mutating func want(_ folder: String, deep isDeep: Bool) {
        if isDeep { deep.insert(folder) } else { shallow.insert(folder) }
        // A folder already present came with all its parents: stop there (a backlog's slices
        // share most of their path).
        var path = folder
        while !path.isEmpty, ancestors.insert(path).inserted {
            path = SliceTarget.parent(of: path)
        }
    }

    /// The deepest folder containing every wanted folder.
    var start: String {
        let folders = deep.union(shallow).map { $0.split(separator: "/").map(String.init) }
        guard var common = folders.first else { return "" }
        for components in folders.dropFirst() {
            var n = 0
            while n < common.count, n < components.count, common[n] == components[n] { n += 1 }
            common = Array(common.prefix(n))
        }
        return common.joined(separator: "/")
    }
}

/// One pruned directory walk with POSIX calls, so errors keep their errno.
struct Walk {
    let root: String
    let plan: WalkPlan
    var entries: [DataFingerprint.File] = []
    /// Paths (relative to root) that could not be read, with their errno.
    var errors: [String: Int32] = [:]

    init(root: String, plan: WalkPlan) { self.root = root; self.plan = plan }

    private func absolute(_ rel: String) -> String { rel.isEmpty ? root : root + "/" + rel }

    mutating func visit(_ rel: String, recursive: Bool) {
        guard let dir = opendir(absolute(rel)) else {
            let code = errno
            if code != ENOENT { errors[rel] = code }
            return
        }
        defer { closedir(dir) }
        let listFiles = recursive || plan.shallow.contains(rel)
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let childRel = rel.isEmpty ? name : rel + "/" + name
            let onPath = plan.ancestors.contains(childRel)
            if !listFiles && !onPath { continue }
            var info = stat()
            // Relative to the open folder: the kernel does not walk the whole path again.
            guard fstatat(dirfd(dir), name, &info, 0) == 0 else {
                let code = errno
                // ENOENT: removed meanwhile, or a dangling symlink; either way not data.
                if code != ENOENT { errors[childRel] = code }
                continue
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                if onPath {
                    visit(childRel, recursive: recursive || plan.deep.contains(childRel))
                } else if recursive {
                    // Inside a data folder: skip ignored folders and symlinked folders (no cycles).
                    if name.hasPrefix(".") || name.hasPrefix("_") { continue }
                    var link = stat()
                    if lstat(absolute(childRel), &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK { continue }
                    visit(childRel, recursive: true)
                }
            } else if (info.st_mode & S_IFMT) == S_IFREG {
                if listFiles {
                    entries.append(DataFingerprint.File(name: childRel, size: Int64(info.st_size),
                                                        modified: Int64(info.st_mtim.tv_sec)))
                }
                if onPath { errors[childRel] = ENOTDIR }
            }
        }
    }

    /// The read error that makes `target`'s verdict unknowable, if any: on the way to one of its
    /// folders, or below its data folder.
    func failure(for target: SliceTarget) -> ProbeFailure? {
        guard !errors.isEmpty else { return nil }
        var folders = [target.file.map(SliceTarget.parent(of:)) ?? target.folder]
        if let marker = target.marker { folders.append(SliceTarget.parent(of: marker)) }
        for (path, code) in errors.sorted(by: { $0.key < $1.key }) {
            let onTheWay = folders.contains { $0 == path || $0.hasPrefix(path + "/") || path.isEmpty }
            let below = target.file == nil && (target.folder.isEmpty || path.hasPrefix(target.folder + "/"))
            if onTheWay || below {
                let shown = path.isEmpty ? root : absolute(path)
                let message = code == ENOTDIR
                    ? "\(shown) is a file where a folder is expected."
                    : "The folder \(shown) cannot be read: \(LocalFolderLocation.describe(code))."
                return ProbeFailure(message, retryable: true)
            }
        }
        return nil
    }
}
