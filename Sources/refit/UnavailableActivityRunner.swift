import RefitCore

/// The runner the CLI uses until RefitActivities is wired in: every attempt fails terminally
/// with a clear sentence, so `tick`/`run`/`history` work end to end and nobody mistakes a
/// missing integration for a flaky service.
struct UnavailableActivityRunner: ActivityRunner {
    func run(_ attempt: AttemptContext) async -> AttemptOutcome {
        .failed(.terminal, message: "Activity type \(attempt.activity.typeName) is not wired yet in this build of refit.")
    }
}

/// Storage probes are not wired yet either: every external dataset's checks fail with a
/// sentence that says so (retryable, so the slices time out per their policy).
enum UnavailableStorageLocations {
    static func location(for dataset: Dataset) -> (any StorageLocation)? {
        UnavailableLocation()
    }

    struct UnavailableLocation: StorageLocation {
        func probe(_ slices: [Slice], of dataset: Dataset) async -> [Slice: ProbeOutcome] {
            let message = "Storage probes for \(dataset.kind.rawValue) datasets are not wired yet in this build of refit."
            return Dictionary(uniqueKeysWithValues: slices.map { ($0, ProbeOutcome.failed(message: message, retryable: true)) })
        }
    }
}
