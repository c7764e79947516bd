import Foundation
import RefitCore

/// Attempts and leases: claim, renew, finish, release, recover.
extension InMemorySchedulingStore {
    public func claim(_ request: ClaimRequest, now: Instant) async throws -> ClaimedAttempt? {
        try locked { s -> ClaimedAttempt? in
            guard let record = s.windows[request.windowID] else { return nil }
            let running = s.windows(of: record.key).filter { $0.status == .inProgress }.count
            guard running < max(1, request.concurrency), record.leaseOwner == nil, record.missingInputs == 0 else { return nil }
            var machine = record.machine(request.budget)
            // A window created before its due time still carries ScheduleTime once it is due.
            if machine.timeArrived(now) == .checkDependencies { _ = machine.dependenciesReady() }
            guard case .dispatch(let attempt, let trigger) = machine.claimed(now) else { return nil }
            // A run id names one attempt for ever (the SQL schema's primary key).
            guard s.run(request.runID) == nil else { throw Failure.duplicateRunID(request.runID) }
            let leaseUntil = now + request.leaseDuration
            var claimed = record
            claimed.status = .inProgress
            claimed.substate = nil
            claimed.attempts = attempt
            claimed.leaseOwner = request.workerID
            claimed.leaseExpiresAt = leaseUntil
            claimed.priority = 0
            claimed.updatedAt = now
            s.windows[record.id] = claimed
            s.runIndex[request.runID] = s.runs.count
            s.runs.append(Run(runID: request.runID, windowID: record.id, attempt: attempt, trigger: trigger, status: .inProgress,
                              workerID: request.workerID, startedAt: now, definitionSHA256: request.definitionSHA256))
            s.runInputs[request.runID] = s.lineage(of: record.id)
            s.audit("attemptStarted", at: now, key: record.key, windowStart: record.window.start, runID: request.runID)
            let endpointClaim = try request.endpoint.map {
                try Self.claimEndpoint(&s, $0, runID: request.runID, modelWindowStart: record.window.start, now: now)
            }
            return ClaimedAttempt(windowID: record.id, key: record.key, window: record.window, runID: request.runID,
                                  attempt: attempt, trigger: trigger, definitionSHA256: request.definitionSHA256,
                                  leaseExpiresAt: leaseUntil, endpointClaim: endpointClaim)
        }
    }

    public func renewLease(windowID: Int64, workerID: String, until: Instant, now: Instant) async throws -> Bool {
        locked { s in
            guard var record = s.windows[windowID], record.leaseOwner == workerID, record.status == .inProgress,
                  let expiry = record.leaseExpiresAt, expiry >= now else { return false }
            record.leaseExpiresAt = until
            record.updatedAt = now
            s.windows[windowID] = record
            return true
        }
    }

    public func recordExternalJob(runID: String, jobID: String) async throws {
        locked { s in
            s.updateRun(runID) { $0.externalJobID = jobID }
        }
    }

    public func finish(runID: String, workerID: String, outcome: AttemptOutcome, budget: RetryBudget,
                       now: Instant) async throws -> FinishedAttempt? {
        locked { s -> FinishedAttempt? in
            guard let run = s.run(runID), let record = s.windows[run.windowID] else { return nil }
            guard run.status == .inProgress, record.status == .inProgress, record.leaseOwner == workerID else {
                // The lease was lost before the attempt finished: the result is only audited.
                s.audit("lateResult", at: now, key: record.key, windowStart: record.window.start, runID: runID)
                return FinishedAttempt(windowID: record.id, status: record.status, substate: record.substate, action: .none,
                                       applied: false)
            }
            var machine = record.machine(budget)
            var superseded: String?
            var externalJobID: String?
            var resultJSON: String?
            if case .succeeded(let result) = outcome {
                externalJobID = result.externalJobID
                resultJSON = result.resultJSON.flatMap { State.isValidJSON($0) ? $0 : nil }
                for output in result.outputs where !s.outputs.contains(where: { $0.runID == runID && $0.name == output.name }) {
                    s.outputs.append(Output(id: Int64(s.outputs.count + 1), runID: runID, name: output.name, location: output.location,
                                            evaluationJSON: output.evaluationJSON.flatMap { State.isValidJSON($0) ? $0 : nil },
                                            createdAt: now))
                }
                if let deployment = result.deployment {
                    superseded = s.supersededReason(deployment)
                    if superseded == nil { s.insertDeployment(deployment, runID: runID, now: now) }
                }
            }
            let (plan, action) = RunRowPlan.apply(outcome, to: &machine, at: now, superseded: superseded)
            s.writeMachine(machine, record: record, now: now)
            s.updateRun(runID) { run in
                run.status = plan.status
                run.substatus = plan.substatus
                run.endedAt = now
                run.errorClass = plan.errorClass
                run.errorMessage = plan.message
                run.externalJobID = externalJobID ?? run.externalJobID
                run.resultJSON = resultJSON
            }
            s.audit("attemptFinished", at: now, key: record.key, windowStart: record.window.start, runID: runID)
            return FinishedAttempt(windowID: record.id, status: machine.status, substate: machine.substate, action: action, applied: true)
        }
    }

    public func release(runID: String, workerID: String, budget: RetryBudget, now: Instant) async throws {
        locked { s in
            guard let run = s.run(runID), run.status == .inProgress, let record = s.windows[run.windowID],
                  record.leaseOwner == workerID else { return }
            var machine = record.machine(budget)
            _ = machine.released(at: now)
            s.writeMachine(machine, record: record, now: now)
            s.updateRun(runID) { run in
                run.status = .failed
                run.endedAt = now
                run.errorClass = .interrupted
                run.errorMessage =
                    "The worker stopped before the attempt finished; the window was given back without using its retry budget."
            }
            s.audit("leaseReleased", at: now, key: record.key, windowStart: record.window.start, runID: runID)
        }
    }

    public func leaseOwners() async throws -> Set<String> {
        locked { s in Set(s.windows.values.compactMap(\.leaseOwner)) }
    }

    public func recoverLeases(now: Instant, deadOwners: Set<String>,
                              budget: @escaping @Sendable (ActivityKey) -> RetryBudget) async throws -> [WindowRecord] {
        let lost = locked { s in
            s.windows.values.filter { record in
                guard let owner = record.leaseOwner else { return false }
                return deadOwners.contains(owner) || (record.leaseExpiresAt.map { $0 < now } ?? false)
            }.sorted { $0.id < $1.id }
        }
        // The budgets are asked outside the lock: the closure belongs to the caller.
        let budgets = Dictionary(lost.map { ($0.key, budget($0.key)) }, uniquingKeysWith: { first, _ in first })
        var recovered: [WindowRecord] = []
        for stale in lost {
            let done = locked { s -> Bool in
                guard let record = s.windows[stale.id], let owner = record.leaseOwner, let expiry = record.leaseExpiresAt,
                      expiry < now || deadOwners.contains(owner), let budget = budgets[record.key] else { return false }
                let open = s.runs.first { $0.windowID == record.id && $0.status == .inProgress }
                let cancel = open.flatMap { s.cancelRequests[$0.runID] }
                // A job resumed by the next attempt makes one attempt with it — once per job.
                let resumable = cancel == nil && open?.externalJobID.map { job in
                    !s.runs.contains { $0.windowID == record.id && $0.externalJobID == job && $0.errorClass == .crash }
                } == true
                var machine = record.machine(budget)
                let (plan, _) = LeaseRecovery.apply(to: &machine, owner: owner, expiry: expiry, now: now,
                                                    ownerGone: deadOwners.contains(owner), cancel: cancel,
                                                    resumableJob: resumable ? open?.externalJobID : nil)
                s.writeMachine(machine, record: record, now: now)
                if let open {
                    s.updateRun(open.runID) { run in
                        run.status = plan.status
                        run.endedAt = max(run.startedAt, now)
                        run.errorClass = plan.errorClass
                        run.errorMessage = plan.message
                        if let substatus = plan.substatus { run.substatus = substatus }
                    }
                }
                s.audit("leaseExpired", at: now, key: record.key, windowStart: record.window.start, runID: open?.runID)
                return true
            }
            if done { recovered.append(stale) }
        }
        return recovered
    }

    public func cancelRequest(runID: String) async throws -> CancelRequest? {
        locked { s in s.cancelRequests[runID] }
    }

    public func requestCancel(runID: String, actor: String, reason: String?, now: Instant) async throws -> CancelRequestResult {
        locked { s in
            guard let run = s.run(runID) else { return .unknownRun }
            guard run.status == .inProgress else { return .notRunning(status: run.status.rawValue) }
            if s.cancelRequests[runID] == nil {
                s.cancelRequests[runID] = CancelRequest(runID: runID, actor: actor, reason: reason, requestedAt: now)
            }
            let window = s.windows[run.windowID]
            s.audit("cancelRequested", at: now, key: window?.key, windowStart: window?.window.start, runID: runID)
            return .requested(owner: window?.leaseOwner)
        }
    }

    /// The number of audited changes so far: it moves with every change another worker sharing
    /// this store makes.
    public func changeToken() async throws -> Int64 {
        locked { s in Int64(s.events.count) }
    }
}
