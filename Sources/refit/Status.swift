import ArgumentParser
import Foundation
import RefitCore
import RefitRuntime
import RefitStore
import RefitWorker

/// Both values, or nil.
private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

/// `refit status`: what is going on now, per pipeline — paused or not and why, windows per
/// state, running attempts with their age and lease, the next window to come due, the last
/// failure, the worker processes of every host (with their last heartbeat, and which hold
/// leases), and what each update activity's endpoint serves. It
/// only reads (definitions without secrets, and the database), so it is safe next to running
/// workers. (A SQLite file is opened with `Store.open`, which migrates it when it is older; a
/// PostgreSQL database is never migrated by it.)
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show pipelines' state: pauses, windows, running attempts, serving models.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @Option(help: "Only this pipeline.") var pipeline: String?
    @Option(help: "Output format: table or json.") var format: Format = .table

    func run() throws {
        let factory = try OperatorInput.loadFactory(definitions)
        let names = try pipeline.map { [try OperatorInput.pipeline($0, in: factory, schedules: definitions.schedules).name] }
            ?? factory.pipelines.keys.sorted()
        let store = try database.openReader(migrating: true)
        defer { store.close() }
        let document = try Self.document(factory: factory, pipelines: names, reader: store.status, now: SystemWallClock().now())
        switch format {
        case .json: print(document.render())
        case .table: print(Self.table(document))
        }
    }

    /// The `--format json` document (also what `refit run --metrics-address` serves at `/status`),
    /// from any store's reader (SQLite or PostgreSQL), formatted alike.
    static func document(factory: Factory, pipelines names: [String], reader repository: any StatusReading,
                         now: Instant) throws(CLIFailure) -> JSONOutput {
        do {
            let controls = try repository.controls()
            let pipelines = try names.compactMap { factory.pipelines[$0] }.map { definition in
                try Self.pipelineStatus(definition, factory: factory, repository: repository, control: controls[definition.name], now: now)
            }
            let holders = try repository.liveWorkers(now: now)
            return .object([("generatedAt", .string(now.iso8601)),
                            ("workers", .array(holders.map { .string($0) })),
                            ("workerDetails", .array(try workerDetails(repository: repository, leaseHolders: holders, now: now))),
                            ("pipelines", .array(pipelines))])
        } catch let error as StoreError {
            throw CLIFailure.internal(error.message)
        } catch {
            throw CLIFailure.internal("\(error)")
        }
    }

    /// Every registered worker process of every host, by host then start, and any lease holder
    /// that never registered (a worker of an older Refit). `state` is running (a heartbeat within
    /// three heartbeat intervals, at least 30 s), silent (none since: killed, hung or cut off), or
    /// stopped (it ended gracefully); heartbeats are judged on the clock that stamped them.
    /// No field counts from now (the heartbeat's age is `generatedAt` minus `heartbeat.at`), so two
    /// documents made a moment apart — `/status` and `refit status` — agree unless a heartbeat
    /// landed between them.
    static func workerDetails(repository: any StatusReading, leaseHolders: [String], now: Instant) throws -> [JSONOutput] {
        let (records, at) = try repository.registeredWorkers(now: now)
        let holding = Set(leaseHolders)
        var entries = records.sorted { ($0.host, $0.startedAt, $0.workerID) < ($1.host, $1.startedAt, $1.workerID) }.map { worker -> JSONOutput in
            .object([
                ("workerId", .string(worker.workerID)), ("host", .string(worker.host)), ("process", .object([("id", .int(worker.pid))])),
                ("command", .string(worker.command.rawValue)), ("state", .string(worker.state(at: at).rawValue)),
                ("holdsLease", .bool(holding.contains(worker.workerID))), ("startedAt", .string(worker.startedAt.iso8601)),
                ("heartbeat", .object([("at", .string(worker.lastHeartbeatAt.iso8601)),
                                       ("intervalSeconds", .int(worker.heartbeatInterval.seconds)),
                                       ("silentAfterSeconds", .int(worker.silentAfter.seconds))])),
                ("stopped", worker.stoppedAt.map { .object([("at", .string($0.iso8601))]) } ?? .null),
            ])
        }
        let registered = Set(records.map(\.workerID))
        for holder in leaseHolders where !registered.contains(holder) {
            let identity = WorkerIdentity(parsing: holder)
            entries.append(.object([
                ("workerId", .string(holder)), ("host", .orNull(identity?.host)),
                ("process", .object([("id", identity.map { .int(Int64($0.pid)) } ?? .null)])), ("command", .null),
                ("state", .string("unregistered")), ("holdsLease", .bool(true)), ("startedAt", .null), ("heartbeat", .null),
                ("stopped", .null),
            ]))
        }
        return entries
    }

    static func pipelineStatus(_ definition: Pipeline, factory: Factory, repository: any StatusReading, control: PipelineControl?,
                               now: Instant) throws -> JSONOutput {
        let name = definition.name
        var pause: JSONOutput = .null
        if let control, control.paused {
            pause = .object([("by", .string("operator")), ("actor", .orNull(control.actor)), ("reason", .orNull(control.reason)),
                             ("since", .string(control.since.iso8601))])
        } else if definition.isPaused {
            pause = .object([("by", .string("definitions")), ("actor", .null), ("reason", .string("isPaused is true in the definitions")),
                             ("since", .null)])
        }
        let counts = try repository.windowCounts(pipeline: name)
        let running = try repository.running(pipeline: name).map { attempt -> JSONOutput in
            .object([("activity", .string(attempt.activity)), ("windowStart", .string(attempt.window.start.iso8601)),
                     ("windowEnd", .string(attempt.window.end.iso8601)), ("runId", .string(attempt.runID)),
                     ("attempt", .int(Int64(attempt.attempt))), ("startedAt", .string(attempt.startedAt.iso8601)),
                     ("ageSeconds", .int(max(0, now.secondsSinceEpoch - attempt.startedAt.secondsSinceEpoch))),
                     ("leaseOwner", .orNull(attempt.leaseOwner)), ("leaseExpiresAt", .orNull(attempt.leaseExpiresAt?.iso8601)),
                     ("ownerGone", .bool(attempt.leaseOwner.flatMap(WorkerIdentity.init(parsing:))?.isKnownDead() ?? false))])
        }
        var next: (activity: String, window: Slice, due: Instant)?
        for activity in definition.activities {
            guard let schedule = try? factory.windows(of: activity, in: definition), let due = schedule.nextDue(after: now) else { continue }
            if next == nil || due.due < next!.due { next = (activity.name, due.window, due.due) }
        }
        let failure = try repository.lastFailure(pipeline: name).map { run -> JSONOutput in
            .object([("activity", .string(run.activity)), ("windowStart", .string(run.window.start.iso8601)), ("runId", .string(run.runID)),
                     ("status", .string(run.status)), ("endedAt", .orNull(run.endedAt?.iso8601)), ("error", .orNull(run.errorMessage))])
        } ?? .null
        var serving: [JSONOutput] = []
        for activity in definition.activities {
            guard case .azureMLUpdateResource = activity.kind else { continue }
            let current = try repository.serving(pipeline: name, activity: activity.name)
            serving.append(.object([
                ("activity", .string(activity.name)), ("endpoint", .orNull(current.map { OperatorInput.withoutQuery($0.endpoint) })),
                ("windowStart", .orNull(current?.modelWindowStart.iso8601)),
                ("model", .orNull(current.map { OperatorInput.withoutQuery($0.modelLocation) })),
                ("runId", .orNull(current?.runID)), ("since", .orNull(current?.deployedAt.iso8601)),
            ]))
        }
        return .object([
            ("pipeline", .string(name)), ("paused", .bool(pause.isNull == false)), ("pause", pause),
            ("windows", .object(WindowStatus.allCases.map { ($0.rawValue, .int(Int64(counts[$0] ?? 0))) })),
            ("running", .array(running)),
            ("nextDue", next.map { .object([("activity", .string($0.activity)), ("windowStart", .string($0.window.start.iso8601)),
                                            ("dueAt", .string($0.due.iso8601))]) } ?? .null),
            ("lastFailure", failure),
            ("workers", .array(try repository.liveWorkers(pipeline: name, now: now).map { .string($0) })),
            ("serving", .array(serving)),
        ])
    }

    /// The JSON document as readable lines.
    static func table(_ document: JSONOutput) -> String {
        var lines: [String] = []
        for pipeline in document["pipelines"]?.items ?? [] {
            let name = pipeline["pipeline"]?.text ?? "?"
            if let pause = pipeline["pause"], !pause.isNull {
                let who = pause["by"]?.text == "operator" ? "operator \(pause["actor"]?.text ?? "?")" : "definitions"
                lines.append("\(name): PAUSED by \(who)" + (pause["reason"]?.text.map { ": \($0)" } ?? ""))
            } else {
                lines.append("\(name): active")
            }
            let counts = (pipeline["windows"]?.fields ?? []).map { "\($0.0) \($0.1.text ?? "0")" }.joined(separator: ", ")
            lines.append("  windows: \(counts)")
            for attempt in pipeline["running"]?.items ?? [] {
                lines.append("  running: \(attempt["activity"]?.text ?? "") \(attempt["windowStart"]?.text ?? "") run \(attempt["runId"]?.text ?? "")"
                             + " for \(attempt["ageSeconds"]?.text ?? "?")s, lease \(attempt["leaseOwner"]?.text ?? "-")"
                             + " until \(attempt["leaseExpiresAt"]?.text ?? "-")")
            }
            if let next = pipeline["nextDue"], !next.isNull {
                lines.append("  next due: \(next["activity"]?.text ?? "") \(next["windowStart"]?.text ?? "") at \(next["dueAt"]?.text ?? "")")
            }
            if let failure = pipeline["lastFailure"], !failure.isNull {
                lines.append("  last failure: \(failure["activity"]?.text ?? "") \(failure["windowStart"]?.text ?? "") "
                             + "\(failure["status"]?.text ?? "") at \(failure["endedAt"]?.text ?? "-"): \(failure["error"]?.text ?? "-")")
            }
            for serving in pipeline["serving"]?.items ?? [] {
                if let model = serving["model"]?.text {
                    lines.append("  serving (\(serving["activity"]?.text ?? "")): window \(serving["windowStart"]?.text ?? "") model \(model)"
                                 + " run \(serving["runId"]?.text ?? "") since \(serving["since"]?.text ?? "")")
                } else {
                    lines.append("  serving (\(serving["activity"]?.text ?? "")): nothing deployed yet")
                }
            }
        }
        let workers = (document["workers"]?.items ?? []).compactMap(\.text)
        lines.append("workers: " + (workers.isEmpty ? "none holding a lease" : workers.joined(separator: ", ")))
        let generated = document["generatedAt"]?.text.flatMap(Instant.parse)
        for worker in document["workerDetails"]?.items ?? [] {
            lines.append("  " + workerLine(worker, now: generated))
        }
        return lines.joined(separator: "\n")
    }

    /// One worker process: `ID on HOST (pid N, run): running, last heartbeat T (Ns ago), started T, holds leases`.
    static func workerLine(_ worker: JSONOutput, now: Instant?) -> String {
        let id = worker["workerId"]?.text ?? "?"
        let state = worker["state"]?.text ?? "?"
        var line = "\(id) on \(worker["host"]?.text ?? "?") (pid \(worker["process"]?["id"]?.text ?? "?")"
            + (worker["command"]?.text.map { ", \($0)" } ?? "") + "): \(state)"
        if let heartbeat = worker["heartbeat"], !heartbeat.isNull {
            let at = heartbeat["at"]?.text
            let age = zip2(now, at.flatMap(Instant.parse)).map { " (\(max(0, ($0 - $1).seconds))s ago)" } ?? ""
            line += ", last heartbeat \(at ?? "?")" + age
        }
        if let started = worker["startedAt"]?.text { line += ", started \(started)" }
        if worker["holdsLease"]?.text == "true" { line += ", holds leases" }
        return line
    }
}
