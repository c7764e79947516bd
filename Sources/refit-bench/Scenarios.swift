import Foundation
import RefitCore
import RefitDefinitions
import RefitStore
import RefitWorker

/// A benchmark scenario: runs in its own process (so its peak RSS is its own) and returns figures.
struct Scenario: Sendable {
    var name: String
    var summary: String
    var run: @Sendable (BenchOptions) async throws -> [(measure: String, value: Double, unit: String)]
}

struct BenchOptions: Sendable {
    var schedules = "schedules"
    var waitingSizes = [1_000, 10_000, 100_000]
}

enum Scenarios {
    static func all(_ options: BenchOptions) -> [Scenario] {
        [definitions, slicing, events] + options.waitingSizes.map(tickWaiting) + [history(hours: 24, label: "day"),
                                                                                 history(hours: 8_760, label: "year"),
                                                                                 history(hours: 8_760, label: "million", copies: 114)]
    }

    // MARK: Definitions

    static let definitions = Scenario(name: "definitions", summary: "load and validate the schedules/ folder") { options in
        var times: [Double] = []
        var files = 0
        let deadline = ContinuousClock.now + .seconds(2)
        while times.count < 200 && (times.count < 5 || ContinuousClock.now < deadline) {
            let (result, elapsed) = measure { DefinitionLoader.load(directory: options.schedules, environment: nil) }
            guard result.factory != nil else {
                throw BenchError("the schedules folder \(options.schedules) did not load: \(result.errors.map(\.description).joined(separator: "; "))")
            }
            files = result.files.count
            times.append(elapsed)
        }
        return [("files in folder", Double(files), "files"),
                ("load (median of \(times.count))", median(times) * 1000, "ms")]
    }

    // MARK: Slicing

    static let slicing = Scenario(name: "slicing", summary: "window enumeration and input-slice resolution") { _ in
        let factory = BenchDefinitions.externalChain(retryInterval: .hours(1))
        guard let pipeline = factory.pipelines["P"], let activity = pipeline.activity(named: "Retrain"),
              let dataset = factory.datasets["Training"], let input = activity.inputs.first else { throw BenchError("bench factory is incomplete") }
        let schedule = try factory.windows(of: activity, in: pipeline)
        let origin = BenchDefinitions.origin
        let tenYears = origin + .days(3_652)
        let (enumerated, enumerateTime) = measure { () -> Int in
            var count = 0
            var dueSum: Int64 = 0
            for window in schedule.windows(from: origin, to: tenYears, dueBy: tenYears) {
                dueSum &+= schedule.dueTime(of: window).secondsSinceEpoch
                count += 1
            }
            return dueSum == 0 ? 0 : count
        }
        let windows = Array(schedule.windows(from: origin, to: origin + .days(366), dueBy: tenYears))
        let (resolved, resolveTime) = measure { () -> Int in
            var count = 0
            for window in windows {
                if let slices = try? DependencyResolver.inputSlices(for: window, input: input, dataset: dataset) { count += slices.count }
            }
            return count
        }
        let monthly = try SliceSchedule(Availability(frequency: .month, interval: 1))
        let (months, monthTime) = measure { monthly.slices(overlapping: Instant(year: 1, month: 1, day: 1),
                                                           end: Instant(year: 9_000, month: 1, day: 1)).reduce(0) { n, _ in n + 1 } }
        return [("hourly windows enumerated (10 years, with due times)", Double(enumerated) / enumerateTime / 1e6, "M windows/s"),
                ("input slices resolved (a year of windows)", Double(resolved) / resolveTime / 1e6, "M slices/s"),
                ("monthly slices enumerated (9000 years)", Double(months) / monthTime / 1e6, "M slices/s")]
    }

    // MARK: Store

    static let events = Scenario(name: "events", summary: "hash-chained audit log in SQLite (WAL, synchronous=NORMAL)") { _ in
        let scratch = try ScratchDatabase()
        let store = try scratch.open()
        let count = 20_000
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        let (_, appendTime) = try measure {
            for i in 0..<count {
                try store.appendEvent(NewAuditEvent(at: at, kind: "benchEvent", pipeline: "P", activity: "A",
                                                    detail: "{\"i\":\(i)}"))
            }
        }
        let batch = 1_000
        let (_, batchTime) = try measure {
            for start in stride(from: 0, to: count, by: batch) {
                try store.appendEvents((start..<(start + batch)).map { i in
                    NewAuditEvent(at: at, kind: "benchEvent", pipeline: "P", activity: "A", detail: "{\"i\":\(i)}")
                })
            }
        }
        let (broken, verifyTime) = try measure { try store.verifyEventChain() }
        guard broken == nil else { throw BenchError("the audit chain broke at event \(broken ?? 0)") }
        return [("append, one transaction each (\(count))", Double(count) / appendTime, "events/s"),
                ("append, \(batch) per transaction (\(count))", Double(count) / batchTime, "events/s"),
                ("verify chain (\(2 * count) events)", Double(2 * count) / verifyTime, "events/s")]
    }

    // MARK: Worker

    /// N hourly windows waiting on external data that never lands: the steady-state cost of a
    /// tick that has nothing to start (every slice's next check is in the future).
    static func tickWaiting(_ n: Int) -> Scenario {
        Scenario(name: "tick-waiting-\(n)", summary: "Worker.tickAndWait() with \(n) windows waiting on absent external data") { _ in
            let scratch = try ScratchDatabase()
            let store = try scratch.open()
            let clock = ManualWallClock(BenchDefinitions.origin + .hours(Int64(n)) + .minutes(30))
            let worker = makeWorker(BenchDefinitions.externalChain(retryInterval: .hours(6)), store: store, clock: clock,
                                    materializationBatch: n)
            let (first, firstTime) = try await measureAsync { try await worker.tickAndWait() }
            guard first.materialized == n else { throw BenchError("expected \(n) windows materialized, got \(first.materialized)") }
            // The probe handles at most 10k due checks per tick: finish the first round of checks.
            var checks = first.checks
            let (_, probeTime) = try await measureAsync {
                while true {
                    let report = try await worker.tickAndWait()
                    if report.checks == 0 { break }
                    checks += report.checks
                }
            }
            guard checks == n else { throw BenchError("expected \(n) slice checks, made \(checks)") }
            let repeats = n >= 100_000 ? 5 : n >= 10_000 ? 10 : 30
            var ticks: [Double] = []
            for _ in 0..<repeats {
                clock.advance(by: TimeSpan(seconds: 1))
                let (report, elapsed) = try await measureAsync { try await worker.tickAndWait() }
                guard report.started.isEmpty, report.checks == 0 else { throw BenchError("a steady-state tick did work") }
                ticks.append(elapsed)
            }
            var wakes: [Double] = []
            for _ in 0..<repeats {
                let (_, elapsed) = await measureAsync { await worker.nextWakeTime() }
                wakes.append(elapsed)
            }
            return [("first tick: materialize \(n) windows, create slices, first 10k checks", firstTime * 1000, "ms"),
                    ("slice checks (absent), one transaction per probe, audit event each", Double(checks) / (firstTime + probeTime), "checks/s"),
                    ("steady tick, nothing runnable (median of \(repeats))", median(ticks) * 1000, "ms"),
                    ("steady tick, worst of \(repeats)", (ticks.max() ?? 0) * 1000, "ms"),
                    ("nextWakeTime() (median)", median(wakes) * 1000, "ms")]
        }
    }

    /// Claims and finishes `hours` hourly windows with a trivial runner, then measures ticks
    /// on top of that history: idle (nothing due) and one new window per hour. With `copies`,
    /// the finished rows are then copied that many times into the past (`replicateFinishedHistory`)
    /// before the ticks, for a history far longer than is worth running window by window.
    static func history(hours: Int, label: String, copies: Int = 0) -> Scenario {
        let total = hours * (copies + 1)
        let summary = copies == 0 ? "\(hours) hourly windows run by a trivial runner, then ticks on that history"
            : "\(hours) hourly windows run by a trivial runner and their rows copied \(copies) times into the past (\(total) Ready windows), then ticks"
        return Scenario(name: "worker-\(label)", summary: summary) { _ in
            let scratch = try ScratchDatabase()
            let store = try scratch.open()
            let clock = ManualWallClock(BenchDefinitions.origin + .hours(Int64(hours)) + .minutes(30))
            let worker = makeWorker(BenchDefinitions.standalone(concurrency: 16), store: store, clock: clock, maxParallel: 16,
                                    materializationBatch: hours)
            let (ran, drainTime) = try await measureAsync { () -> Int in
                var ran = 0
                while true {
                    let report = try await worker.tickAndWait()
                    if report.started.isEmpty { break }
                    ran += report.started.count
                }
                return ran
            }
            guard ran == hours else { throw BenchError("expected \(hours) windows run, ran \(ran)") }
            var figures: [(measure: String, value: Double, unit: String)] = []
            if copies > 0 {
                let (windows, copyTime) = try measure { try store.replicateFinishedHistory(copies: copies, span: .hours(Int64(hours))) }
                guard windows == total else { throw BenchError("expected \(total) windows after copying, found \(windows)") }
                figures.append(("copy the rows into \(total) windows of history (setup)", copyTime, "s"))
            }
            var idle: [Double] = []
            for _ in 0..<20 {
                clock.advance(by: TimeSpan(seconds: 1))
                let (report, elapsed) = try await measureAsync { try await worker.tickAndWait() }
                guard report.started.isEmpty else { throw BenchError("an idle tick started work") }
                idle.append(elapsed)
            }
            var hourly: [Double] = []
            for _ in 0..<20 {
                clock.advance(by: .hours(1))
                let (report, elapsed) = try await measureAsync { try await worker.tickAndWait() }
                guard report.started.count == 1 else { throw BenchError("an hourly tick started \(report.started.count) windows") }
                hourly.append(elapsed)
            }
            return [("claim + run + finish \(hours) windows (concurrency 16)", Double(ran) / drainTime, "windows/s")] + figures
                + [("idle tick on \(total) Ready windows (median of 20)", median(idle) * 1000, "ms"),
                   ("tick + one new window run to Ready (median of 20)", median(hourly) * 1000, "ms")]
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
