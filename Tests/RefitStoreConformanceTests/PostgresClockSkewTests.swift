import Foundation
import RefitCore
import RefitPostgres
import RefitTestKit
import RefitWorker
import Testing

/// Two workers on one PostgreSQL database whose wall clocks differ by minutes, as on two hosts
/// with skewed clocks: leases are stamped and expired by the server's clock, so the worker whose
/// clock runs ahead never takes the other's live attempt.
@Suite("PostgreSQL: workers with skewed clocks", .timeLimit(.minutes(2)))
struct PostgresClockSkewTests {
    /// The system clock shifted by `offset` (a host whose clock is wrong).
    struct SkewedClock: WallClock {
        let offset: TimeSpan
        var now: WallInstant { SystemWallClock().now.advanced(by: .seconds(offset.seconds)) }
        var minimumResolution: Duration { SystemWallClock().minimumResolution }
        func sleep(until deadline: WallInstant, tolerance: Duration?) async throws {
            try await SystemWallClock().sleep(until: deadline.advanced(by: .seconds(-offset.seconds)), tolerance: tolerance)
        }
    }

    static let position = SourcePosition(file: "test.json", line: 1, column: 1)

    static func factory(start: Instant) -> Factory {
        let output = Dataset(name: "Out", kind: .fileShare, linkedServiceName: "Files", location: Dataset.Location(folderPath: "out"),
                             availability: Availability(frequency: .hour, interval: 1), external: false, position: position)
        let activity = Activity(name: "Job", typeName: "Command", kind: .command(.init(arguments: ["true"])), inputs: [],
                                outputs: ["Out"], linkedServiceName: nil, policy: ActivityPolicy(), position: position)
        let pipeline = Pipeline(name: "P", activities: [activity], start: start, end: start + .hours(1), position: position)
        return Factory(datasets: ["Out": output], pipelines: ["P": pipeline])
    }

    @Test("a worker ten minutes ahead never recovers or runs the window another worker holds and renews")
    func skewedWorkerStealsNothing() async throws {
        let database = try PostgresTestDatabase()
        let storeA = try PostgresSchedulingStore.open(url: database.url)
        let storeB = try PostgresSchedulingStore.open(url: database.url)
        // One hourly window, due two hours ago by both clocks.
        let hour = Instant(secondsSinceEpoch: SystemWallClock().now().secondsSinceEpoch / 3_600 * 3_600) - .hours(3)
        let factory = Self.factory(start: hour)
        let runnerA = ScriptedRunner { _, _ in
            try? await Task.sleep(for: .seconds(6))
            return .succeeded(AttemptResult())
        }
        let runnerB = ScriptedRunner()
        func worker(_ id: String, _ store: PostgresSchedulingStore, _ runner: ScriptedRunner, _ clock: any WallClock) -> Worker {
            Worker(factory: factory, store: store, runner: runner, locations: { _ in nil }, clock: clock,
                   configuration: WorkerConfiguration(workerID: id, leaseDuration: TimeSpan(seconds: 10),
                                                      leaseRenewalInterval: TimeSpan(seconds: 1)))
        }
        let a = worker("host-a:1:1-a", storeA, runnerA, SystemWallClock())
        let b = worker("host-b:1:1-b", storeB, runnerB, SkewedClock(offset: .minutes(10)))

        async let first = a.tickAndWait()
        // B starts passing once A holds the window (before that, claiming it would be fair play).
        for _ in 0..<1_000 where runnerA.recorded.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(runnerA.recorded.count == 1, "A never started its attempt")
        // While A's attempt runs (6 s, its 10 s lease renewed every second), B passes again and
        // again: by B's clock A's lease expired ten minutes ago.
        var passes = 0
        let until = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < until {
            let report = try await b.tickAndWait()
            #expect(report.recovered == 0 && report.started.isEmpty, "pass \(passes): \(report)")
            passes += 1
            try await Task.sleep(for: .milliseconds(250))
        }
        let reportA = try await first
        #expect(reportA.started.count == 1)
        #expect(passes >= 1, "B passed at least once while A held the window")
        #expect(runnerB.recorded.isEmpty, "B ran \(runnerB.recorded)")
        #expect(runnerA.recorded.count == 1)
        let window = try #require(try await storeA.window(ActivityKey(pipeline: "P", activity: "Job"), start: hour))
        #expect(window.status == .ready && window.attempts == 1)
    }
}
