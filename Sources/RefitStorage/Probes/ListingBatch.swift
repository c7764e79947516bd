import Foundation
import RefitCore
import RefitHTTP

/// Lists as few prefixes as possible for many slices: slices sharing a prefix share its
/// listing; different prefixes within one bucket/container are first tried as one listing of
/// their longest common prefix, which is abandoned (for one listing per prefix) once it passes
/// `limit` objects, so a common prefix covering years of history never gets listed in full.
enum ListingBatch {
    /// Lists `prefix`; nil when more than `limit` objects were seen (only when `limit` is set).
    typealias Lister = @Sendable (_ prefix: String, _ limit: Int?) async -> Result<[DataFingerprint.File]?, ProbeFailure>

    /// The listing result for each of `prefixes`. `scope` splits prefixes that can never share a
    /// listing (Azure: different containers).
    static func list(_ prefixes: Set<String>, limit: Int, scope: (String) -> String = { _ in "" },
                     lister: Lister) async -> [String: Result<FileIndex, ProbeFailure>] {
        var result: [String: Result<FileIndex, ProbeFailure>] = [:]
        let groups = Dictionary(grouping: prefixes, by: scope)
        for scopeKey in groups.keys.sorted() {
            let group = groups[scopeKey, default: []].sorted()
            if group.count > 1 {
                let common = ProbeText.commonPrefix(group)
                switch await lister(common, limit) {
                case .failure(let failure):
                    for prefix in group { result[prefix] = .failure(failure) }
                    continue
                case .success(let files?):
                    let index = FileIndex(files)
                    for prefix in group { result[prefix] = .success(index) }
                    continue
                case .success(nil):
                    break  // too many objects under the common prefix: one listing per prefix
                }
            }
            for prefix in group {
                switch await lister(prefix, nil) {
                case .failure(let failure): result[prefix] = .failure(failure)
                case .success(let files): result[prefix] = .success(FileIndex(files ?? []))
                }
            }
        }
        return result
    }
}

/// Turns store responses into probe failures: one sentence, no secret, retryable only when a
/// later attempt can succeed (throttling, server errors, network, and refused credentials, which
/// an operator fixes while the slice waits — as a local folder's permission denied is retried —
/// within the dataset's `maximumRetry` checks).
enum StoreFailure {
    static func status(_ status: Int, body: Data, operation: String) -> ProbeFailure {
        let code = errorCode(in: body)
        let suffix = code.map { " \($0)" } ?? ""
        switch status {
        case 401, 403:
            return ProbeFailure("\(operation) failed: access denied (HTTP \(status)\(suffix)); check the credentials and their permissions.",
                                retryable: true)
        case 408, 429, 500...599:
            return ProbeFailure("\(operation) failed with HTTP \(status)\(suffix); will retry.", retryable: true)
        default:
            return ProbeFailure("\(operation) failed with HTTP \(status)\(suffix).", retryable: false)
        }
    }

    static func transport(_ error: HTTPError, operation: String) -> ProbeFailure {
        if error.code == .httpStatus, let status = error.status {
            return self.status(status, body: Data(), operation: operation)
        }
        let what: String
        switch error.code {
        case .connectionRefused: what = "connection refused"
        case .cannotResolveHost: what = "cannot resolve the host"
        case .timedOut: what = "timed out"
        case .tls: what = "TLS error"
        case .invalidRequest: what = "the URL is not valid"
        case .responseTooLarge: what = "the response is too large"
        default: what = error.detail.map { "network error (\($0))" } ?? "network error"
        }
        return ProbeFailure("\(operation) failed: \(what).", retryable: error.isRetryable)
    }

    /// The `<Code>` of an S3 or Azure error body, if it has one (only letters and digits kept).
    static func errorCode(in body: Data) -> String? {
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        guard let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex)
        else { return nil }
        let code = text[start.upperBound..<end.lowerBound].filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        return code.isEmpty ? nil : String(code.prefix(64))
    }
}

extension SliceTarget {
    /// Probes targets with listings (and the single-object shortcut), shared by S3 and Azure.
    static func probeListed(_ slices: [Slice], of dataset: Dataset, limit: Int, scope: (String) -> String = { _ in "" },
                            precheck: (SliceTarget) -> ProbeFailure? = { _ in nil },
                            head: (@Sendable (String) async -> Result<DataFingerprint.File?, ProbeFailure>)?,
                            lister: ListingBatch.Lister) async -> [Slice: ProbeOutcome] {
        var result: [Slice: ProbeOutcome] = [:]
        var targets: [Slice: SliceTarget] = [:]
        let resolver = Resolver(dataset.location)
        for slice in slices {
            switch resolver.resolve(slice) {
            case .failure(let failure): result[slice] = failure.outcome
            case .success(let target):
                if let failure = precheck(target) { result[slice] = failure.outcome } else { targets[slice] = target }
            }
        }
        // One slice naming one object: a single HEAD is cheaper than a listing.
        if targets.count == 1, let (slice, target) = targets.first, let file = target.file, target.marker == nil, let head {
            switch await head(file) {
            case .failure(let failure): result[slice] = failure.outcome
            case .success(let found): result[slice] = target.evaluate(FileIndex(found.map { [$0] } ?? []))
            }
            return result
        }
        let listings = await ListingBatch.list(Set(targets.values.map(\.folderPrefix)), limit: limit, scope: scope,
                                               lister: lister)
        for (slice, target) in targets {
            switch listings[target.folderPrefix] {
            case .success(let index)?: result[slice] = target.evaluate(index)
            case .failure(let failure)?: result[slice] = failure.outcome
            case nil: result[slice] = .failed(message: "No listing was made for \(target.folderPrefix).", retryable: true)
            }
        }
        return result
    }
}
