import Foundation
import Logging
import RefitCore

/// External data, the worker's half: each full pass probes the external slices whose check is
/// due, re-checks waiting FileShare slices early after a watched folder changed, and now and then
/// sweeps recent Ready slices for data that changed (`ExternalDataChecker` does the probing).
extension Worker {
    /// The external-data step of a full pass. Returns the number of checks recorded.
    func checkExternalData(now: Instant) async throws -> Int {
        let checker = ExternalDataChecker(store: store, factory: factory, locations: locations, clock: clock,
                                          logger: logger, metrics: configuration.metrics)
        var checks = try await checker.checkDue(now: now)
        let storageChanged = recheckWaitingData
        if recheckWaitingData {
            recheckWaitingData = false
            checks += try await checker.recheckWaiting(now: now)
        }
        try await sweepChangedData(checker, storageChanged: storageChanged, now: now)
        return checks
    }

    /// Changed-data detection (see `DataVerification`): every external dataset's recent Ready
    /// slices on the first pass and then every `dataVerifyInterval`; the FileShare datasets'
    /// also after a watched folder changed.
    func sweepChangedData(_ checker: ExternalDataChecker, storageChanged: Bool, now: Instant) async throws {
        guard configuration.dataChangeHorizon.seconds > 0 else { return }
        let since = now - configuration.dataChangeHorizon
        if lastDataSweepAt.map({ now - $0 >= configuration.dataVerifyInterval }) ?? true {
            lastDataSweepAt = now
            _ = try await checker.verifyReady(datasets: checker.externalDatasets, since: since, now: now)
        } else if storageChanged || fileShareSweepPending {
            // A burst of file events would sweep at every wake-up: at most one sweep per spacing,
            // the rest left pending for a later pass.
            guard lastFileShareSweepAt.map({ now - $0 >= Self.fileShareSweepSpacing }) ?? true else {
                fileShareSweepPending = true
                return
            }
            fileShareSweepPending = false
            lastFileShareSweepAt = now
            _ = try await checker.verifyReady(datasets: checker.watchedDatasets, since: since, now: now)
        }
    }
}
