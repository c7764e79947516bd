import Algorithms
import Logging
import RefitCore

/// External-data checking: probes the slices whose check is due (one probe call per dataset,
/// bounded by the dataset's `retryTimeout`) and records what `ExternalSliceCheck` decides. The
/// store makes a slice found Ready count for its consumers in the same transaction.
struct ExternalDataChecker {
    let store: any SchedulingStore
    let factory: Factory
    let locations: StorageLocationProvider
    let clock: any WallClock
    let logger: Logger
    var metrics = WorkerMetrics()
    /// At most this many checks per pass; the rest are due in the next pass.
    var pageSize = 2_000

    /// The names of the external datasets defined now (slices of removed ones are never checked).
    var externalDatasets: [String] { factory.externalDatasetNames }

    /// The external FileShare datasets: their folders are watched, so a change is seen at once.
    var watchedDatasets: [String] { factory.datasets.values.filter { $0.external && $0.kind == .fileShare }.map(\.name).sorted() }

    /// Probes every slice whose check is due. Returns the number of checks recorded.
    func checkDue(now: Instant) async throws -> Int {
        try await check(try await store.dueChecks(now: now, datasets: externalDatasets, limit: pageSize), onlyReady: false)
    }

    /// The early re-check after a storage change: waiting FileShare slices between checks,
    /// probed now; only the ones found Ready are recorded, so notifications never use up
    /// `maximumRetry`. Returns the number recorded.
    func recheckWaiting(now: Instant) async throws -> Int {
        try await check(try await store.waitingBetweenChecks(datasets: watchedDatasets, now: now, limit: pageSize), onlyReady: true)
    }

    /// The changed-data sweep: looks again at the Ready slices of `datasets` that became Ready at
    /// or after `since` (the change horizon), a page at a time, one `probe` call per dataset and
    /// page, and marks those whose data differs from the fingerprint recorded when they became
    /// Ready (or is gone). A probe that fails or does not answer concludes nothing. Returns the
    /// number of slices marked changed.
    func verifyReady(datasets: [String], since: Instant, now: Instant) async throws -> Int {
        var cursor: SliceCursor?
        var marked = 0
        while true {
            let page = try await store.readySlices(datasets: datasets, since: since, after: cursor, limit: pageSize)
            guard let last = page.last else { break }
            cursor = SliceCursor(dataset: last.dataset, readyAt: last.updatedAt ?? since, sliceID: last.id)
            var changes: [SliceDataChange] = []
            var changedSlices: [SliceRecord] = []
            // The page comes ordered by dataset: one probe per run of one dataset's slices.
            for (name, records) in page.chunked(on: \.dataset) {
                guard let dataset = factory.datasets[name], let location = locations(dataset),
                      let outcomes = await probe(location, records.map(\.slice), dataset: dataset) else { continue }
                for record in records {
                    guard let outcome = outcomes[record.slice],
                          case .changed(let seen, let detail) = DataVerification.compare(recorded: record.fingerprint, with: outcome)
                    else { continue }
                    changes.append(SliceDataChange(sliceID: record.id, recorded: record.fingerprint, now: seen, detail: detail))
                    changedSlices.append(record)
                }
            }
            marked += try await store.recordDataChanges(changes, now: now)
            for (record, change) in zip(changedSlices, changes) {
                logger.warning("external slice data changed since it became Ready; rerun the windows that read it to use it",
                               metadata: ["dataset": "\(record.dataset)", "slice": "\(record.slice.start)", "reason": "\(change.detail)"])
            }
            if page.count < pageSize { break }
        }
        return marked
    }

    /// Probes `records`, one `probe` call per dataset, and records each check (the checks of one
    /// probe in one transaction). With `onlyReady` only slices found Ready are recorded; a miss,
    /// a probe error or a timeout leaves the slice as it was.
    private func check(_ records: [SliceRecord], onlyReady: Bool) async throws -> Int {
        var checks = 0
        for (name, records) in Dictionary(grouping: records, by: \.dataset).sorted(by: { $0.key < $1.key }) {
            guard let dataset = factory.datasets[name] else { continue }
            let outcomes: [Slice: ProbeOutcome]?
            let began = ContinuousClock.now
            if let location = locations(dataset) {
                outcomes = await probe(location, records.map(\.slice), dataset: dataset)
            } else {
                let message = "no storage probe is available for \(dataset.kind.rawValue) dataset \(dataset.name)"
                outcomes = Dictionary(uniqueKeysWithValues: records.map { ($0.slice, ProbeOutcome.failed(message: message, retryable: false)) })
            }
            let checkedAt = clock.now()
            // Only what is recorded, counted and logged is kept, not the page's records again: a
            // page of first checks was the largest allocation of a long backfill's first pass.
            var updates: [SliceCheckUpdate] = []
            updates.reserveCapacity(onlyReady ? 0 : records.count)
            var counts: [String: Int] = [:]
            var settled: [(start: Instant, check: ExternalSliceCheck)] = []
            for record in records {
                var check = record.check(policy: dataset.externalData, validation: dataset.validation)
                let action = outcomes.map { check.checked($0[record.slice] ?? .absent(detail: "the probe gave no answer for this slice"), at: checkedAt) }
                    ?? check.checkTimedOut(at: checkedAt)
                guard !onlyReady || action == .markReady else { continue }
                updates.append(SliceCheckUpdate(sliceID: record.id, seenCheckCount: record.checkCount, check: check))
                counts[check.status.rawValue, default: 0] += 1
                if check.status != .waiting { settled.append((record.slice.start, check)) }
            }
            try await store.recordChecks(updates, now: checkedAt)
            checks += updates.count
            metrics.sliceChecks(kind: dataset.kind, results: counts, duration: ContinuousClock.now - began)
            for (start, check) in settled {
                logger.info("external slice \(check.status.rawValue)",
                            metadata: ["dataset": "\(name)", "slice": "\(start)", "early": "\(onlyReady)",
                                       "substate": "\(check.substate?.rawValue ?? "-")", "reason": "\(check.lastMessage ?? "-")"])
            }
        }
        return checks
    }

    /// Runs one probe, giving up after the dataset's `retryTimeout` (nil = timed out).
    private func probe(_ location: any StorageLocation, _ wanted: [Slice], dataset: Dataset) async -> [Slice: ProbeOutcome]? {
        let timeout = (dataset.externalData ?? Dataset.ExternalDataPolicy()).retryTimeout
        let clock = self.clock
        let deadline = clock.deadline(after: timeout)
        return await withTaskGroup(of: [Slice: ProbeOutcome]?.self) { group in
            group.addTask { await location.probe(wanted, of: dataset) }
            if timeout.seconds > 0 {
                group.addTask {
                    do { try await clock.sleep(until: deadline) } catch { return [:] }
                    return nil
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

extension Factory {
    /// The names of the external datasets, sorted: the slices the worker probes.
    var externalDatasetNames: [String] { datasets.values.filter(\.external).map(\.name).sorted() }
}
