import Foundation
import RefitCore
import RefitDefinitions
import RefitHTTP
import RefitStorage

extension ActivityContext {
    /// A file server's folder: `host` as written when absolute, else relative to the schedules
    /// folder (as the storage probes read it), so staging reads the same files the probe saw.
    func folder(of files: LinkedService.FileServer) -> String {
        SecretResolver.resolvePath(files.host, base: secrets.baseDirectory)
    }
}

extension SecretResolver {
    /// The secret's value, or a configuration error that names the reference (never a value).
    func value(of secret: Secret, what: String) throws(ActivityError) -> String {
        do {
            return try resolve(secret)
        } catch {
            // A variable not set or a secret file not readable yet is the operator's to fix, not
            // the window's fault: the attempt fails retryable, naming what is missing.
            throw ActivityError(.configuration, "The \(what) is unavailable: \(error).", isRetryable: true)
        }
    }

    /// An endpoint setting's value: inline, or from the environment.
    func value(of setting: Setting, what: String) throws(ActivityError) -> String {
        guard let value = setting.resolve(environment: environment) else {
            throw ActivityError(.configuration, "The \(what) comes from environment variable \(setting.description.dropFirst()), which is not set.",
                                isRetryable: true)
        }
        return value
    }
}

/// Everything one execution of an activity window needs: the definitions, the window, the
/// journal of this attempt, and the means to talk to the outside (HTTP, secrets, time).
public struct ActivityContext: Sendable {
    public var factory: Factory
    public var pipelineName: String
    public var activity: Activity
    public var window: Slice
    public var journal: any StepJournal
    public var http: HTTPClient
    public var secrets: SecretResolver
    /// The clock the activity reads the time from (SAS expiry, data-to-submit delay), waits on
    /// between polls and checks `deadline` against: the worker's own, so both see the same
    /// deadline.
    public var clock: any WallClock
    /// When the activity's `policy.timeout` ends, on `clock` (nil: no timeout).
    public var deadline: WallInstant?
    /// Whether an operator canceled the attempt (read when its task is canceled): its external
    /// job is then DELETEd rather than left running for the next attempt to resume.
    public var canceledByOperator: @Sendable () -> Bool
    /// When the window's last input slice was found Ready (its data landed), if known: a batch
    /// job submitted for it records the delay in `refit_data_to_submit_seconds`.
    public var dataReadyAt: Date?

    public init(factory: Factory, pipelineName: String, activity: Activity, window: Slice, journal: any StepJournal,
                http: HTTPClient, secrets: SecretResolver = SecretResolver(baseDirectory: "."),
                clock: any WallClock = SystemWallClock(), deadline: WallInstant? = nil,
                canceledByOperator: @escaping @Sendable () -> Bool = { false }) {
        self.factory = factory; self.pipelineName = pipelineName; self.activity = activity; self.window = window
        self.journal = journal; self.http = http; self.secrets = secrets
        self.clock = clock; self.deadline = deadline; self.canceledByOperator = canceledByOperator
    }

    /// The deadline implied by the activity's `policy.timeout`, counted from `clock`'s now (nil
    /// when the timeout is infinite).
    public static func deadline(for activity: Activity, clock: any WallClock = SystemWallClock()) -> WallInstant? {
        activity.policy.timeout.seconds > 0 ? clock.now.advanced(by: .seconds(activity.policy.timeout.seconds)) : nil
    }

    /// Time left until `deadline` on `clock`, never negative (nil: no deadline).
    var remaining: Duration? { deadline.map { max(.zero, clock.now.duration(to: $0)) } }

    /// Whether `deadline` has come on `clock`.
    var isPastDeadline: Bool { deadline.map { clock.now >= $0 } ?? false }

    // MARK: - Resolution helpers

    func linkedService(_ name: String?, what: String) throws(ActivityError) -> LinkedService {
        guard let name else {
            throw ActivityError(.configuration, "Activity '\(activity.name)' names no \(what) linked service.")
        }
        guard let service = factory.linkedServices[name] else {
            throw ActivityError(.configuration, "Linked service '\(name)' of activity '\(activity.name)' is not defined.")
        }
        return service
    }

    func dataset(_ name: String) throws(ActivityError) -> Dataset {
        guard let dataset = factory.datasets[name] else {
            throw ActivityError(.configuration, "Dataset '\(name)' of activity '\(activity.name)' is not defined.")
        }
        return dataset
    }

    /// `folderPath/fileName` of a dataset for this window, with `{tokens}` expanded.
    func path(of dataset: Dataset) throws(ActivityError) -> String {
        func expand(_ template: String?) throws(ActivityError) -> String {
            guard let template, !template.isEmpty else { return "" }
            do {
                return try PartitionedPath.expand(template, tokens: dataset.location.partitionedBy, slice: window)
            } catch {
                throw ActivityError(.configuration, "Dataset '\(dataset.name)': \(error.description)")
            }
        }
        let folder = try expand(dataset.location.folderPath ?? dataset.location.key)
        let file = try expand(dataset.location.fileName)
        let joined = [folder, file].filter { !$0.isEmpty }.map { $0.trimming(byte: UInt8(ascii: "/")) }.joined(separator: "/")
        guard !joined.isEmpty else {
            throw ActivityError(.configuration, "Dataset '\(dataset.name)' has no folderPath or fileName.")
        }
        return joined
    }

    /// The storage account of an AzureStorage linked service.
    func storageAccount(_ name: String) throws(ActivityError) -> AzureStorageAccount {
        let service = try linkedService(name, what: "storage")
        guard case .azureStorage(let storage) = service.kind, let secret = storage.connectionString else {
            throw ActivityError(.configuration, "Linked service '\(name)' is not an AzureStorage service with a connection string.")
        }
        let text = try secrets.value(of: secret, what: "connection string of '\(name)'")
        do {
            return try AzureStorageAccount.parsed(connectionString: text)
        } catch {
            throw ActivityError(.configuration, "Linked service '\(name)': \(error.message)")
        }
    }

    /// The AzureML linked service of this activity, with its key resolved.
    func azureML() throws(ActivityError) -> (service: LinkedService.AzureML, apiKey: String, name: String) {
        let service = try linkedService(activity.linkedServiceName, what: "AzureML")
        guard case .azureML(let ml) = service.kind else {
            throw ActivityError(.configuration, "Linked service '\(service.name)' of activity '\(activity.name)' is not AzureML.")
        }
        return (ml, try secrets.value(of: ml.apiKey, what: "apiKey of '\(service.name)'"), service.name)
    }

    /// `yyyyMMddHHmmss` of the window start: the per-window folder name.
    var windowStamp: String {
        let c = window.start.components
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2)
    }

    func journalCall<T>(_ body: () throws -> T) throws(ActivityError) -> T {
        do {
            return try body()
        } catch {
            // A journal that could not be written (its database gone for a while) leaves the
            // attempt to a retry, which resumes from what the journal holds; an unreadable or
            // inconsistent journal (`StepJournalError`) will not get better by trying again.
            throw ActivityError(.journal, "The step journal failed: \(error)", isRetryable: !(error is StepJournalError))
        }
    }
}

/// Splits `container/path/to/blob` into its container and blob name.
func splitBlobPath(_ path: String) throws(ActivityError) -> (container: String, blob: String) {
    let trimmed = path.hasPrefix("/") ? String(path.dropFirst()) : path
    guard let slash = trimmed.firstIndex(of: "/"), slash != trimmed.startIndex,
          trimmed.index(after: slash) != trimmed.endIndex else {
        throw ActivityError(.configuration, "Blob path '\(path)' must be container/path.")
    }
    return (String(trimmed[..<slash]), String(trimmed[trimmed.index(after: slash)...]))
}
