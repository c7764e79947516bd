import Foundation
import RefitCore

/// What `refit history` and `refit show` read, on any store: the SQLite `RunRepository` or
/// PostgreSQL's reader return the same records, so the commands format both alike. Read-only.
public protocol RunHistoryReading: Sendable {
    /// Whether any window of `pipeline` (and of `activity`, when given) is recorded.
    func hasWindows(pipeline: String?, activity: String?) throws -> Bool
    /// Attempts matching `query`, in start order (ties in claim order), reversed for `.newest`.
    func history(_ query: RunQuery) throws -> [RunRecord]
    /// Runs whose id starts with `prefix` (at most `limit`, in id order).
    func runs(idPrefix prefix: String, limit: Int) throws -> [RunRecord]
    /// The run's journal steps in order.
    func steps(runID: String) throws -> [RunStepRecord]
    /// The audit events naming the run, in order.
    func events(runID: String) throws -> [AuditEvent]
    /// The latest run of the window, other than `runID`, whose `submit` step created `jobID`.
    func submitRun(windowID: Int64, excluding runID: String, jobID: String) throws -> String?
}

extension RunHistoryReading {
    public func hasWindows(pipeline: String?) throws -> Bool { try hasWindows(pipeline: pipeline, activity: nil) }

    public func runs(idPrefix prefix: String) throws -> [RunRecord] { try runs(idPrefix: prefix, limit: 10) }

    /// The jobs `run` worked on that an earlier attempt of its window submitted: a run
    /// resumed after a crash, a lost lease or a cancellation polls the recorded job instead of
    /// submitting another (the BES activity's `submit` step), so its own steps name the job
    /// (`jobId` in their intent or result) while the `submit` step that created it belongs
    /// to the earlier run.
    public func resumedJobs(of run: RunRecord) throws -> [ResumedJob] {
        let steps = try steps(runID: run.runID)
        var jobs: [String] = []
        var submittedHere = Set<String>()
        for step in steps {
            let intent = RunStepRecord.decodeObject(step.intentJSON), result = step.resultJSON.map(RunStepRecord.decodeObject) ?? [:]
            for id in [intent["jobId"], result["jobId"], result["endedJobId"], result["unknownJobId"]].compactMap({ $0 })
            where !jobs.contains(id) {
                jobs.append(id)
            }
            if step.name == "submit", step.state == "done", let id = result["jobId"] { submittedHere.insert(id) }
        }
        if let external = run.externalJobID, !jobs.contains(external) { jobs.append(external) }
        var resumed: [ResumedJob] = []
        for job in jobs where !submittedHere.contains(job) {
            if let submitter = try submitRun(windowID: run.windowID, excluding: run.runID, jobID: job) {
                resumed.append(ResumedJob(jobID: job, submittedByRunID: submitter))
            }
        }
        return resumed
    }

    /// The run that left a submit whose outcome is unknown, when `run` noted one (its own
    /// `submit` step records `orphanRun`): the job that earlier submit may have created
    /// could be orphaned.
    public func orphanedSubmitRun(of run: RunRecord) throws -> String? {
        try steps(runID: run.runID).first { $0.name == "submit" }.flatMap { step in
            step.resultJSON.map(RunStepRecord.decodeObject)?["orphanRun"]
        }
    }
}

extension RunStepRecord {
    /// The string fields of a step's JSON object (empty when it is not one).
    static func decodeObject(_ text: String) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return object.compactMapValues { $0 as? String }
    }
}

extension RunRepository: RunHistoryReading {}
