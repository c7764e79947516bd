/// Changed-data detection: a Ready external slice looked at again. ADF v1 trusts a slice once it
/// is Ready; Refit keeps the fingerprint it saw then (names, sizes, etags or modification
/// times), compares it with what the storage holds now, and marks the slice changed when they
/// differ. Nothing re-runs on its own: `refit slices` shows the change, and `refit rerun` or
/// `refit backfill --mode all` of a window that reads the slice checks it again and re-runs
/// with the data as it is now.
public enum DataVerification: Hashable, Sendable {
    /// The data is as it was when the slice became Ready.
    case unchanged
    /// The data differs (`now` is its fingerprint) or is gone (`now` nil); `detail` says how.
    case changed(now: DataFingerprint?, detail: String)
    /// The storage could not be asked; nothing is concluded.
    case unknown

    /// Compares the fingerprint recorded when the slice became Ready with a probe's outcome now.
    public static func compare(recorded: DataFingerprint?, with outcome: ProbeOutcome) -> DataVerification {
        switch outcome {
        case .failed:
            return .unknown
        case .absent:
            return .changed(now: nil, detail: "the data is gone")
        case .present(let seen):
            guard let recorded else {
                // Ready without a recorded fingerprint (a slice marked Ready by hand): nothing to compare.
                return .unchanged
            }
            if seen == recorded { return .unchanged }
            return .changed(now: seen, detail: describe(from: recorded, to: seen))
        }
    }

    /// One phrase naming what differs: files added or removed, sizes, versions.
    static func describe(from old: DataFingerprint, to new: DataFingerprint) -> String {
        let before = Dictionary(old.files.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.files.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var parts: [String] = []
        let added = after.keys.filter { before[$0] == nil }.sorted()
        let removed = before.keys.filter { after[$0] == nil }.sorted()
        let modified = after.keys.filter { before[$0] != nil && before[$0] != after[$0] }.sorted()
        if !added.isEmpty { parts.append("added \(list(added))") }
        if !removed.isEmpty { parts.append("removed \(list(removed))") }
        if !modified.isEmpty { parts.append("modified \(list(modified))") }
        let bytes = old.totalBytes == new.totalBytes ? "" : " (\(old.totalBytes) → \(new.totalBytes) bytes)"
        return "the data changed: " + parts.joined(separator: ", ") + bytes
    }

    private static func list(_ names: [String]) -> String {
        names.count <= 3 ? names.joined(separator: ", ") : names.prefix(3).joined(separator: ", ") + " and \(names.count - 3) more"
    }
}

/// A Ready slice whose data changed, for `SchedulingStore.recordDataChanges`.
public struct SliceDataChange: Hashable, Sendable {
    public var sliceID: Int64
    /// The fingerprint the comparison started from; the change is recorded only if the slice
    /// still has it (it was not re-checked meanwhile).
    public var recorded: DataFingerprint?
    /// The data now; nil when it is gone.
    public var now: DataFingerprint?
    public var detail: String

    public init(sliceID: Int64, recorded: DataFingerprint?, now: DataFingerprint?, detail: String) {
        self.sliceID = sliceID; self.recorded = recorded; self.now = now; self.detail = detail
    }
}

/// Where a page of the changed-data sweep ended: the next page starts after this slice (pages
/// run per dataset in the order slices became Ready).
public struct SliceCursor: Hashable, Sendable {
    public var dataset: String
    public var readyAt: Instant
    public var sliceID: Int64
    public init(dataset: String, readyAt: Instant, sliceID: Int64) {
        self.dataset = dataset; self.readyAt = readyAt; self.sliceID = sliceID
    }
}
