import Foundation
import RefitCore

/// An in-memory store of slice data: a test "writes" a slice and the probe finds it, so
/// external-data checks run without a folder, bucket or container.
public final class InMemoryLocation: StorageLocation, @unchecked Sendable {
    // @unchecked: `files` and `probes` are only touched while holding `lock`.
    private let lock = NSLock()
    private var files: [Slice: [DataFingerprint.File]] = [:]
    private var probes = 0

    public init() {}

    /// Makes the slice's data present: one file of `bytes` bytes.
    public func write(_ slice: Slice, bytes: Int64 = 100) {
        lock.withLock { files[slice] = [.init(name: "data/\(slice.start.iso8601).csv", size: bytes, modified: slice.end.secondsSinceEpoch)] }
    }

    /// How many times `probe` was called (one call may probe many slices).
    public var probeCalls: Int { lock.withLock { probes } }

    public func probe(_ slices: [Slice], of dataset: Dataset) async -> [Slice: ProbeOutcome] {
        lock.withLock {
            probes += 1
            var result: [Slice: ProbeOutcome] = [:]
            for slice in slices {
                if let found = files[slice] {
                    result[slice] = .present(DataFingerprint(files: found))
                } else {
                    result[slice] = .absent(detail: "no file for \(slice.start.iso8601)")
                }
            }
            return result
        }
    }
}
