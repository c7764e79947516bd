// `refit-bench throughput`: how many windows a store lets K worker processes claim and finish per
// second. Each run seeds N runnable windows (one activity without inputs) through the
// `SchedulingStore` protocol, then starts K child processes of this executable, each with its
// own worker id and its own connection, as separate hosts would. They wait on a barrier (a
// line on their stdin), then loop — a page of candidates, a claim for each, `finish` with
// success for each claim won — until no candidate is left. Afterwards the parent checks through
// the run history that every window ran exactly once.
import Foundation
import RefitCore
import RefitPostgres
import RefitStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `refit-bench throughput` was asked to measure.
struct ThroughputOptions: Sendable {
    /// A postgres:// URL of a superuser (each run creates and drops a database of its own), a
    /// SQLite file path that does not exist yet (each run creates it and removes it), or nil: a
    /// scratch SQLite file in the temporary folder.
    var database: String?
    var workers = [1, 2, 4]
    var windows = 3_000
    /// How many candidates a worker reads per page (the worker reads its free slots + 1; 16 is
    /// `refit run`'s default `maxParallel`).
    var page = 17
    var repeats = 1
    var json = false

    static let usage = """
        usage: refit-bench throughput [--db FILE_OR_URL] [--workers 1,2,4] [--windows N] [--page N] [--repeat N] [--format table|json]
          --db       postgres://… (a superuser's URL: each run creates and drops its own database on that server),
                     or a SQLite file that does not exist yet (created and removed by each run);
                     default: a scratch SQLite file in the temporary folder
          --workers  worker process counts to run, one run each (default 1,2,4)
          --windows  runnable windows seeded per run (default 3000)
          --page     candidates a worker reads per page (default 17: 16 free slots + 1, as `refit run`)
          --repeat   runs per worker count (default 1)
        """
}

/// One worker process's tally, sent to the parent as JSON on its stdout.
struct WorkerTally: Codable, Sendable {
    var workerID: String
    var claims = 0
    /// Claims that answered nil: another worker had won the window (or held its row).
    var lostClaims = 0
    var finishes = 0
    /// Finishes the store did not apply (the lease was no longer ours): never expected here.
    var unappliedFinishes = 0
    var pages = 0
    var candidatesSeconds = 0.0
    var claimSeconds = 0.0
    var finishSeconds = 0.0
    /// Wall-clock times (seconds since 1970) of the start signal and of the last finish.
    var startedAt = 0.0
    var endedAt = 0.0
    /// User + system CPU of the worker process.
    var cpuSeconds = 0.0
}

/// One run's figures: K workers over N windows on one store.
struct ThroughputRun: Codable, Sendable {
    var store: String
    var workers: Int
    var run: Int
    var windows: Int
    var page: Int
    var wallSeconds: Double
    var claimsPerSecond: Double
    var finishesPerSecond: Double
    var lostClaims: Int
    var candidatesMs: Double
    var claimMs: Double
    var finishMs: Double
    var workerCPUSeconds: Double
    /// Claims won by each worker, in worker order.
    var split: [Int]
    var seedSeconds: Double
    var loadAverage: String
    /// Empty when every window was claimed and finished exactly once.
    var wrong: [String]
}

/// Where a run keeps its state.
enum ThroughputDatabase: Sendable {
    case sqlite(path: String)
    case postgres(url: String)

    var kind: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// The argument that names this database to a worker process.
    var argument: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let url): url
        }
    }

    init(argument: String) {
        self = Self.isPostgres(argument) ? .postgres(url: argument) : .sqlite(path: argument)
    }

    static func isPostgres(_ text: String) -> Bool { text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") }

    /// Opens (and migrates) the database: the scheduling store and the run history of the same connection.
    func open() throws -> (store: any SchedulingStore, history: any RunHistoryReading, readyWindows: () throws -> Int) {
        switch self {
        case .sqlite(let path):
            let store = try Store.open(path: path)
            return (SQLiteSchedulingStore(store), RunRepository(store),
                    { try WindowRepository(store).count(status: .ready, pipelines: [ThroughputBench.key.pipeline]) })
        case .postgres(let url):
            let store = try PostgresSchedulingStore.open(url: url)
            return (store, PostgresRunHistory(store),
                    { try store.windowCount(status: .ready, pipelines: [ThroughputBench.key.pipeline]) })
        }
    }
}

enum ThroughputBench {
    static let key = ActivityKey(pipeline: "P", activity: "Job")
    static let definitionSHA256 = SHA256.hex("refit-bench throughput")
    /// The activity's concurrency cap, far above any worker count: the cap never limits a claim.
    static let concurrency = 1_000_000
    static let factory = BenchDefinitions.standalone(concurrency: concurrency)

    static func schedule() throws -> ActivityWindows {
        guard let pipeline = factory.pipelines[key.pipeline], let activity = pipeline.activity(named: key.activity) else {
            throw BenchError("the throughput bench's definitions are incomplete")
        }
        return try factory.windows(of: activity, in: pipeline)
    }

    static var budget: RetryBudget { RetryBudget(ActivityPolicy(concurrency: concurrency)) }

    // MARK: Parent

    @MainActor
    static func main(_ arguments: [String]) async -> Int32 {
        let options: ThroughputOptions
        do { options = try parse(arguments) } catch {
            FileHandle.standardError.write(Data("refit-bench throughput: \(error)\n\(ThroughputOptions.usage)\n".utf8))
            return 2
        }
        do {
            let target = options.database.map(ThroughputDatabase.init(argument:)) ?? .sqlite(path: "")
            if !options.json {
                print("throughput — claim → finish(succeeded) through the SchedulingStore protocol; \(options.windows) windows "
                      + "of one activity without inputs; K worker processes, each with its own connection; "
                      + "candidates page \(options.page)")
                print(header)
            }
            var runs: [ThroughputRun] = []
            for workers in options.workers {
                for run in 1...options.repeats {
                    let result = try await measureRun(target, workers: workers, run: run, options: options)
                    runs.append(result)
                    if !options.json { print(row(result)) }
                    for line in result.wrong {
                        let text = "WRONG \(result.store) K=\(workers) run \(run): \(line)"
                        if options.json { FileHandle.standardError.write(Data((text + "\n").utf8)) } else { print(text) }
                    }
                }
            }
            if options.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(runs), as: UTF8.self))
            }
            return runs.contains { !$0.wrong.isEmpty } ? 1 : 0
        } catch {
            FileHandle.standardError.write(Data("refit-bench throughput: \(error)\n".utf8))
            return 1
        }
    }

    static func parse(_ arguments: [String]) throws -> ThroughputOptions {
        var options = ThroughputOptions()
        var rest = arguments
        while !rest.isEmpty {
            let flag = rest.removeFirst()
            func value() throws -> String {
                guard !rest.isEmpty else { throw BenchError("\(flag) needs a value.") }
                return rest.removeFirst()
            }
            func count(_ text: String) throws -> Int {
                guard let n = Int(text), n > 0 else { throw BenchError("\(flag) takes a positive count, got '\(text)'.") }
                return n
            }
            switch flag {
            case "--db": options.database = try value()
            case "--workers": options.workers = try value().split(separator: ",").map { try count(String($0)) }
            case "--windows": options.windows = try count(try value())
            case "--page": options.page = try count(try value())
            case "--repeat": options.repeats = try count(try value())
            case "--format":
                let text = try value()
                guard text == "table" || text == "json" else { throw BenchError("unknown format '\(text)'; use table or json.") }
                options.json = text == "json"
            case "-h", "--help":
                print(ThroughputOptions.usage)
                exit(0)
            default: throw BenchError("unknown argument '\(flag)'.")
            }
        }
        if let path = options.database, !ThroughputDatabase.isPostgres(path), FileManager.default.fileExists(atPath: path) {
            throw BenchError("\(path) exists; give a SQLite path that does not exist yet (each run creates it and removes it).")
        }
        return options
    }

    /// One run: a fresh database, N windows seeded, K workers released together, then the check.
    @MainActor
    static func measureRun(_ target: ThroughputDatabase, workers: Int, run: Int, options: ThroughputOptions) async throws -> ThroughputRun {
        let scratch = try ScratchRunDatabase(target, label: "k\(workers)_r\(run)")
        defer { scratch.remove() }
        let seedStart = ContinuousClock.now
        try await seed(scratch.database, windows: options.windows)
        let seedSeconds = seconds(ContinuousClock.now - seedStart)
        let load = loadAverage()
        let children = try (0..<workers).map { index in
            try WorkerProcess(database: scratch.database, workerID: "bench-w\(index + 1)", page: options.page)
        }
        for child in children { try child.waitUntilReady() }
        for child in children { try child.go() }
        // Every worker is waited for before a failure is reported, so none outlives its database.
        let outcomes = children.map { child in Result { try child.result() } }
        let tallies = try outcomes.map { try $0.get() }
        let wrong = try verify(scratch.database, windows: options.windows, tallies: tallies)
        let started = tallies.map(\.startedAt).min() ?? 0, ended = tallies.map(\.endedAt).max() ?? 0
        let wall = max(ended - started, 1e-9)
        let claims = tallies.reduce(0) { $0 + $1.claims }, finishes = tallies.reduce(0) { $0 + $1.finishes }
        let claimCalls = tallies.reduce(0) { $0 + $1.claims + $1.lostClaims }
        func mean(_ seconds: Double, _ calls: Int) -> Double { calls == 0 ? 0 : seconds / Double(calls) * 1000 }
        return ThroughputRun(
            store: target.kind, workers: workers, run: run, windows: options.windows, page: options.page, wallSeconds: wall,
            claimsPerSecond: Double(claims) / wall, finishesPerSecond: Double(finishes) / wall,
            lostClaims: tallies.reduce(0) { $0 + $1.lostClaims },
            candidatesMs: mean(tallies.reduce(0) { $0 + $1.candidatesSeconds }, tallies.reduce(0) { $0 + $1.pages }),
            claimMs: mean(tallies.reduce(0) { $0 + $1.claimSeconds }, claimCalls),
            finishMs: mean(tallies.reduce(0) { $0 + $1.finishSeconds }, finishes + tallies.reduce(0) { $0 + $1.unappliedFinishes }),
            workerCPUSeconds: tallies.reduce(0) { $0 + $1.cpuSeconds }, split: tallies.map(\.claims),
            seedSeconds: seedSeconds, loadAverage: load, wrong: wrong)
    }

    /// Materializes `windows` hourly windows from the activity's start and records that they
    /// read nothing, so every one is runnable at once — the worker's own two steps, through the protocol.
    static func seed(_ database: ThroughputDatabase, windows count: Int) async throws {
        let (store, _, _) = try database.open()
        let schedule = try schedule()
        let now = SystemWallClock().now()
        let due = schedule.windows(from: schedule.activeStart, to: schedule.activeEnd ?? .adfNoEnd, dueBy: now)
        guard due.count >= count else { throw BenchError("only \(due.count) windows are due; ask for fewer") }
        let batch = 1_000
        for start in stride(from: 0, to: count, by: batch) {
            let new = due[start..<min(start + batch, count)].map { window in
                NewWindow(window: window, dueAt: schedule.dueTime(of: window), trigger: .backfill)
            }
            guard let last = new.last else { break }
            _ = try await store.materialize(key, windows: new, until: last.window.end, outputs: ["Out"],
                                            definitionSHA256: definitionSHA256, budget: budget, now: now)
        }
        while true {
            let unresolved = try await store.unresolvedWindows(limit: batch)
            guard !unresolved.isEmpty else { break }
            try await store.recordInputs(unresolved.map { WindowInputs(windowID: $0.id, inputs: []) }, now: now)
        }
        let query = CandidateQuery(key: key, activeStart: schedule.activeStart, activeEnd: schedule.activeEnd,
                                   order: .oldestFirst, limit: count + 1)
        let runnable = try await store.candidates(query, now: now).count
        guard runnable == count else { throw BenchError("seeded \(count) windows but \(runnable) are runnable") }
    }

    /// What went wrong, if anything: every window must have exactly one run, Succeeded, and be Ready.
    static func verify(_ database: ThroughputDatabase, windows: Int, tallies: [WorkerTally]) throws -> [String] {
        let (_, history, readyWindows) = try database.open()
        let runs = try history.history(RunQuery(filter: RunFilter(pipeline: key.pipeline)))
        var wrong: [String] = []
        var perWindow: [Int64: Int] = [:]
        for run in runs { perWindow[run.windowID, default: 0] += 1 }
        let doubled = perWindow.filter { $0.value > 1 }
        if runs.count != windows { wrong.append("\(runs.count) runs recorded for \(windows) windows") }
        if perWindow.count != windows { wrong.append("\(perWindow.count) of \(windows) windows ran") }
        if !doubled.isEmpty {
            wrong.append("\(doubled.count) windows ran more than once (e.g. window id \(doubled.keys.sorted().prefix(5).map(String.init).joined(separator: ", ")))")
        }
        let notSucceeded = runs.filter { $0.status != "Succeeded" }
        if !notSucceeded.isEmpty { wrong.append("\(notSucceeded.count) runs did not end Succeeded (e.g. \(notSucceeded[0].status))") }
        let ready = try readyWindows()
        if ready != windows { wrong.append("\(ready) of \(windows) windows are Ready") }
        let claims = tallies.reduce(0) { $0 + $1.claims }, finishes = tallies.reduce(0) { $0 + $1.finishes }
        if claims != windows { wrong.append("the workers won \(claims) claims for \(windows) windows") }
        if finishes != windows { wrong.append("the workers finished \(finishes) attempts for \(windows) windows") }
        let unapplied = tallies.reduce(0) { $0 + $1.unappliedFinishes }
        if unapplied > 0 { wrong.append("\(unapplied) finishes were not applied (lease lost)") }
        return wrong
    }

    static let header = ["store", "K", "run", "wall s", "claims/s", "finishes/s", "lost claims", "candidates ms", "claim ms",
                         "finish ms", "worker CPU s", "claims per worker", "load avg"]
        .enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: " ")

    static let widths = [8, 2, 3, 7, 9, 10, 11, 13, 8, 9, 12, 22, 14]

    static func row(_ r: ThroughputRun) -> String {
        [r.store, "\(r.workers)", "\(r.run)", String(format: "%.2f", r.wallSeconds), String(format: "%.0f", r.claimsPerSecond),
         String(format: "%.0f", r.finishesPerSecond), "\(r.lostClaims)", String(format: "%.2f", r.candidatesMs),
         String(format: "%.2f", r.claimMs), String(format: "%.2f", r.finishMs), String(format: "%.1f", r.workerCPUSeconds),
         r.split.map(String.init).joined(separator: "/"), r.loadAverage]
            .enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: " ")
    }

    /// The 1-, 5- and 15-minute load averages (Linux), or "-".
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "-" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    // MARK: Worker process

    /// The child's side: connect, say "ready", wait for "go", claim and finish until nothing is
    /// left, print the tally as JSON.
    @MainActor
    static func workerMain(_ arguments: [String]) async -> Int32 {
        var database: String?, workerID: String?, page = 17
        var rest = arguments
        while rest.count >= 2 {
            let flag = rest.removeFirst(), value = rest.removeFirst()
            switch flag {
            case "--db": database = value
            case "--worker-id": workerID = value
            case "--page": page = Int(value) ?? page
            default: break
            }
        }
        guard let database, let workerID else {
            FileHandle.standardError.write(Data("refit-bench throughput-worker: --db and --worker-id are required\n".utf8))
            return 2
        }
        do {
            let (store, _, _) = try ThroughputDatabase(argument: database).open()
            let schedule = try schedule()
            let query = CandidateQuery(key: key, activeStart: schedule.activeStart, activeEnd: schedule.activeEnd,
                                       order: .oldestFirst, limit: page)
            FileHandle.standardOutput.write(Data("ready\n".utf8))
            guard readLine() == "go" else { throw BenchError("no start signal") }
            let tally = try await work(store, query: query, workerID: workerID)
            FileHandle.standardOutput.write(try JSONEncoder().encode(tally) + Data("\n".utf8))
            return 0
        } catch {
            FileHandle.standardError.write(Data("refit-bench throughput-worker \(workerID): \(error)\n".utf8))
            return 1
        }
    }

    static func work(_ store: any SchedulingStore, query: CandidateQuery, workerID: String) async throws -> WorkerTally {
        let clock = SystemWallClock()
        var tally = WorkerTally(workerID: workerID)
        tally.startedAt = Date().timeIntervalSince1970
        while true {
            let (page, pageTime) = try await measureAsync { try await store.candidates(query, now: clock.now()) }
            tally.pages += 1
            tally.candidatesSeconds += pageTime
            if page.isEmpty { break }
            for candidate in page {
                let request = ClaimRequest(windowID: candidate.id, workerID: workerID, runID: RunID.make(),
                                           leaseDuration: .minutes(10), concurrency: concurrency, budget: budget,
                                           definitionSHA256: definitionSHA256)
                let (claim, claimTime) = try await measureAsync { try await store.claim(request, now: clock.now()) }
                tally.claimSeconds += claimTime
                guard let claim else {
                    tally.lostClaims += 1
                    continue
                }
                tally.claims += 1
                let (finished, finishTime) = try await measureAsync {
                    try await store.finish(runID: claim.runID, workerID: workerID, outcome: .succeeded(AttemptResult()),
                                           budget: budget, now: clock.now())
                }
                tally.finishSeconds += finishTime
                if finished?.applied == true { tally.finishes += 1 } else { tally.unappliedFinishes += 1 }
            }
        }
        tally.endedAt = Date().timeIntervalSince1970
        tally.cpuSeconds = ownCPUSeconds()
        return tally
    }
}

/// The database of one run: a fresh SQLite file, or a fresh database on the PostgreSQL server.
@MainActor
final class ScratchRunDatabase {
    let database: ThroughputDatabase
    private let cleanup: () -> Void

    init(_ target: ThroughputDatabase, label: String) throws {
        switch target {
        case .sqlite(let path) where path.isEmpty:
            let scratch = try ScratchDatabase()
            database = .sqlite(path: scratch.path)
            cleanup = { withExtendedLifetime(scratch) {} }
        case .sqlite(let path):
            database = .sqlite(path: path)
            cleanup = {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
        case .postgres(let server):
            // A database name cannot be a parameter; this one is letters, digits and `_` only.
            let name = "refit_bench_\(getpid())_\(label)"
            let admin = try PostgresConnection(url: server)
            _ = try admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            _ = try admin.execute("CREATE DATABASE \(name)")
            guard var components = URLComponents(string: server) else { throw BenchError("cannot read the URL \(server)") }
            components.path = "/" + name
            guard let url = components.string else { throw BenchError("cannot build a URL from \(server)") }
            database = .postgres(url: url)
            cleanup = { _ = try? PostgresConnection(url: server).execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        }
    }

    func remove() { cleanup() }
}

/// A worker process of this executable, started and waiting for its start signal.
@MainActor
final class WorkerProcess {
    let workerID: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(database: ThroughputDatabase, workerID: String, page: Int) throws {
        self.workerID = workerID
        process.executableURL = try ownExecutableURL()
        process.arguments = ["throughput-worker", "--db", database.argument, "--worker-id", workerID, "--page", String(page)]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    /// Blocks until the worker has connected and said "ready".
    func waitUntilReady() throws {
        var line = Data()
        while true {
            guard let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty else {
                process.waitUntilExit()
                throw BenchError("worker \(workerID) exited before it was ready (status \(process.terminationStatus))")
            }
            if byte == Data("\n".utf8) { break }
            line += byte
        }
        guard String(decoding: line, as: UTF8.self) == "ready" else {
            throw BenchError("worker \(workerID) said '\(String(decoding: line, as: UTF8.self))' instead of ready")
        }
    }

    func go() throws {
        try input.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
        try input.fileHandleForWriting.close()
    }

    /// Waits for the worker to end and decodes its tally.
    func result() throws -> WorkerTally {
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("worker \(workerID) failed (exit status \(process.terminationStatus))")
        }
        return try JSONDecoder().decode(WorkerTally.self, from: data)
    }
}
