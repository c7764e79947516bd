import Foundation
import Logging
import RefitCore

/// Attempt supervision: claim a window, run its activity with the lease renewed and the
/// activity's timeout enforced, then record how it ended (or give the window back on shutdown).
extension Worker {
    func start(_ candidate: DispatchPlanner.Candidate, pipeline: Pipeline, activity: Activity,
               now: Instant) async throws -> StartedAttempt? {
        let runID = RunID.make(now: clock.now.date)
        let sha = definitionSHA256(pipeline)
        // An update's endpoint lock is taken in the claim's transaction, not in one of its own.
        let request = ClaimRequest(windowID: candidate.id, workerID: configuration.workerID, runID: runID,
                                   leaseDuration: configuration.leaseDuration, concurrency: activity.policy.concurrency,
                                   budget: budget(for: candidate.key), definitionSHA256: sha,
                                   endpoint: runner.endpoint(of: activity, in: factory))
        await registerIfPending()
        guard let claim = try await store.claim(request, now: now) else { return nil }
        let deadline = activity.policy.timeout.seconds > 0 ? clock.deadline(after: activity.policy.timeout) : nil
        var context = AttemptContext(factory: factory, pipeline: pipeline, activity: activity, window: claim.window,
                                     attempt: claim.attempt, runID: runID, trigger: claim.trigger, definitionSHA256: sha,
                                     deadline: deadline, workerID: configuration.workerID, clock: clock)
        context.endpointClaim = claim.endpointClaim
        logger.info("attempt started", metadata: metadata(claim.key, claim.window, runID: runID,
                                                          extra: ["attempt": "\(claim.attempt)", "trigger": "\(claim.trigger.rawValue)"]))
        configuration.metrics.attemptStarted(claim.key, trigger: claim.trigger)
        running[runID] = RunningAttempt(claim: claim)
        claimed.append((claim, context))
        return StartedAttempt(runID: runID, pipeline: claim.key.pipeline, activity: claim.key.activity, window: claim.window,
                              attempt: claim.attempt, trigger: claim.trigger)
    }

    /// `store.finish`, tried again with backoff (1 s, 2 s, 4 s, then every 5 s) while the
    /// database does not answer, for as long as the lease surely holds (its duration less one
    /// renewal interval from now): a server restart or a network cut must not lose a finished
    /// attempt, which would otherwise run again once its lease expired. A retry after a COMMIT
    /// whose fate was unknown is safe: the store applies an outcome once, to a run still in
    /// progress under this worker's lease, and only audits a second one.
    func recordOutcome(_ claim: ClaimedAttempt, _ outcome: AttemptOutcome, now: Instant) async throws -> FinishedAttempt? {
        let deadline = clock.now() + TimeSpan(seconds: max(1, configuration.leaseDuration.seconds - configuration.leaseRenewalInterval.seconds))
        var pause = TimeSpan(seconds: 1)
        while true {
            do {
                return try await store.finish(runID: claim.runID, workerID: configuration.workerID, outcome: outcome,
                                              budget: budget(for: claim.key), now: now)
            } catch {
                let retryAt = clock.now() + pause
                guard retryAt < deadline, !Task.isCancelled else { throw error }
                logger.warning("could not record the attempt's outcome yet; trying again",
                               metadata: metadata(claim.key, claim.window, runID: claim.runID,
                                                  extra: ["error": "\(error)", "retryInSeconds": "\(pause.seconds)"]))
                try await clock.sleep(until: retryAt)
                pause = TimeSpan(seconds: min(5, pause.seconds * 2))
            }
        }
    }

    private enum Ending: Sendable {
        case outcome(AttemptOutcome)
        case deadlinePassed
        case leaseLost
        case canceledByOperator(String)
    }

    /// Runs one claimed attempt to its end; a child task of the caller's attempt group.
    func execute(_ claim: ClaimedAttempt, _ context: AttemptContext) async {
        let began = ContinuousClock.now
        let runner = self.runner, clock = self.clock
        let store = self.store, configuration = self.configuration
        let ending: Ending = await withTaskGroup(of: Ending?.self) { group in
            group.addTask { .outcome(await runner.run(context)) }
            if let deadline = context.deadline {
                group.addTask {
                    do { try await clock.sleep(until: deadline) } catch { return nil }
                    return .deadlinePassed
                }
            }
            group.addTask {
                // The heartbeat while the attempt runs: every `cancelPollInterval` look for an
                // operator's cancel request; every `leaseRenewalInterval` renew the lease.
                var renewedAt = clock.now()
                while !Task.isCancelled {
                    let poll = min(configuration.cancelPollInterval, configuration.leaseRenewalInterval)
                    do { try await clock.sleep(until: clock.now() + poll) } catch { return nil }
                    if let request = try? await store.cancelRequest(runID: claim.runID) {
                        context.stop.request(.canceledByOperator(message: request.message))
                        return .canceledByOperator(request.message)
                    }
                    let now = clock.now()
                    guard now >= renewedAt + configuration.leaseRenewalInterval else { continue }
                    let renewed: Bool
                    do {
                        renewed = try await store.renewLease(windowID: claim.windowID, workerID: configuration.workerID,
                                                             until: now + configuration.leaseDuration, now: now)
                    } catch {
                        // The database did not answer (a server restarting, a network cut): the lease
                        // runs until it expires, so keep working and try again at the next poll. Once
                        // a whole lease duration passed without a renewal, another worker may have
                        // recovered the window: stop, as when the lease is lost.
                        if clock.now() >= renewedAt + configuration.leaseDuration { return .leaseLost }
                        continue
                    }
                    if !renewed { return .leaseLost }
                    renewedAt = now
                    await self.heartbeatIfDue()
                }
                return nil
            }
            var result: Ending = .leaseLost
            while let next = await group.next() {
                if let next { result = next; break }
            }
            group.cancelAll()
            return result
        }
        await finish(claim, context: context, ending: ending, interrupted: Task.isCancelled, began: began)
    }

    private func finish(_ claim: ClaimedAttempt, context: AttemptContext, ending: Ending, interrupted: Bool,
                        began: ContinuousClock.Instant) async {
        var counted = "LeaseLost"
        defer {
            configuration.metrics.attemptFinished(claim.key, outcome: counted, duration: ContinuousClock.now - began)
            running[claim.runID] = nil
            attemptEnded()
        }
        let now = clock.now()
        let meta = metadata(claim.key, claim.window, runID: claim.runID)
        if interrupted && stopping {
            counted = "Released"
            do {
                try await store.release(runID: claim.runID, workerID: configuration.workerID, budget: budget(for: claim.key), now: now)
                logger.warning("attempt interrupted by shutdown; lease released", metadata: meta)
            } catch {
                logger.error("could not release the lease; it will expire", metadata: meta.merging(["error": "\(error)"]) { $1 })
            }
            return
        }
        let outcome: AttemptOutcome
        switch ending {
        case .leaseLost:
            logger.error("lease lost while the attempt ran; another worker owns the window now", metadata: meta)
            return
        case .deadlinePassed:
            outcome = .timedOut(message: "The attempt exceeded the activity's timeout of \(context.activity.policy.timeout).")
        case .canceledByOperator(let message):
            outcome = .canceled(message: message)
        case .outcome(let value):
            outcome = value
        }
        do {
            guard let finished = try await recordOutcome(claim, outcome, now: now) else { return }
            counted = WorkerMetrics.outcomeLabel(outcome)
            if case .azureMLUpdateResource = context.activity.kind, finished.applied, let kind = WorkerMetrics.deploymentKind(outcome) {
                configuration.metrics.deployment(claim.key, kind: kind)
            }
            let level: Logger.Level = finished.status == .failed ? .error : .info
            logger.log(level: level, "attempt finished", metadata: meta.merging([
                "outcome": "\(outcome.summary)", "window.state": "\(finished.status.rawValue)",
                "window.substate": "\(finished.substate?.rawValue ?? "-")", "applied": "\(finished.applied)"]) { $1 })
        } catch {
            counted = "Unrecorded"
            logger.error("could not record the attempt's outcome; the lease will expire and the attempt be retried",
                         metadata: meta.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// Recovery, the first step of a full pass: windows whose lease expired, or whose holder on
    /// this host is a process that is gone (recovered at once, not at lease expiry), go back to
    /// the store's retry rules. Returns how many were recovered.
    func recoverAbandonedAttempts(now: Instant) async throws -> Int {
        let owners = try await store.leaseOwners()
        let dead = Set(owners.filter { $0 != configuration.workerID && (WorkerIdentity(parsing: $0)?.isKnownDead() ?? false) })
        let recovered = try await store.recoverLeases(now: now, deadOwners: dead, budget: budgets)
        for window in recovered {
            configuration.metrics.leaseRecovered(window.key)
            logger.warning("recovered the window of a worker that is gone (lease expired or process ended)",
                           metadata: metadata(window.key, window.window))
        }
        return recovered.count
    }
}
