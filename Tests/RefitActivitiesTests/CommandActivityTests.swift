import Foundation
import RefitActivities
import RefitCore
import RefitHTTP
import Testing

private let here = SourcePosition(file: "test.json", line: 1, column: 1)

func commandContext(_ script: String, timeout: Duration? = nil, journal: InMemoryStepJournal = InMemoryStepJournal(),
                    clock: any WallClock = SystemWallClock()) -> ActivityContext
{
    let files = LinkedService(name: "files", typeName: "OnPremisesFileServer",
                              kind: .fileServer(.init(host: "/data")), position: here)
    let availability = Availability(frequency: .day, interval: 1)
    let input = Dataset(name: "raw-data", kind: .fileShare, linkedServiceName: "files",
                        location: .init(folderPath: "in/{d}", fileName: "x.csv",
                                        partitionedBy: [PartitionToken(name: "d", date: .sliceStart, format: "yyyyMMdd")]),
                        availability: availability, position: here)
    let output = Dataset(name: "model", kind: .azureBlob, linkedServiceName: "files",
                         location: .init(folderPath: "models/{d}", fileName: "m.ilearner",
                                         partitionedBy: [PartitionToken(name: "d", date: .sliceStart, format: "yyyyMMdd")]),
                         availability: availability, position: here)
    let activity = Activity(name: "train", typeName: "Command",
                            kind: .command(.init(arguments: ["/bin/sh", "-c", script])),
                            inputs: [.init(name: "raw-data", position: here)], outputs: ["model"],
                            linkedServiceName: nil, position: here)
    let factory = Factory(linkedServices: ["files": files], datasets: ["raw-data": input, "model": output])
    let window = Slice(start: Instant(year: 2024, month: 3, day: 5), end: Instant(year: 2024, month: 3, day: 6))
    return ActivityContext(factory: factory, pipelineName: "p", activity: activity, window: window, journal: journal,
                           http: HTTPClient(), clock: clock, deadline: timeout.map { clock.now + $0 })
}

@Suite(.timeLimit(.minutes(1))) struct CommandActivityTests {
    @Test func environmentAndOutputTail() async throws {
        let journal = InMemoryStepJournal()
        let outcome = try await CommandActivity().execute(commandContext(
            "echo \"$REFIT_WINDOW_START $REFIT_WINDOW_END\"; echo \"$REFIT_INPUT_RAW_DATA\" >&2; echo \"$REFIT_OUTPUT_MODEL\"",
            journal: journal))
        #expect(outcome.exitStatus == 0)
        #expect(outcome.outputTail.contains("2024-03-05T00:00:00Z 2024-03-06T00:00:00Z"))
        #expect(outcome.outputTail.contains("/data/in/20240305/x.csv"))
        #expect(outcome.outputTail.contains("models/20240305/m.ilearner"))
        #expect(try journal.lookup(step: "command")?.result?["exitStatus"] == "0")
    }

    @Test func nonZeroExitAndTailLimit() async throws {
        let journal = InMemoryStepJournal()
        do {
            _ = try await CommandActivity().execute(commandContext(
                "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done; exit 3", journal: journal))
            Issue.record("a failing command succeeded")
        } catch {
            #expect(error.code == .commandFailed && error.message.contains("status 3") && error.isRetryable)
        }
        let record = try #require(try journal.lookup(step: "command"))
        #expect(record.state == .failed && record.result?["exitStatus"] == "3")
        let tail = try #require(record.result?["outputTail"])
        #expect(tail.utf8.count <= CommandActivity.tailBytes && tail.hasSuffix("line-1999\n") && !tail.contains("line-0\n"))
    }

    @Test func timeoutKillsTheProcessGroup() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("refit-cmd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: pidFile) }
        // A grandchild that would outlive the shell by ten minutes unless the whole group is killed.
        let script = "sleep 600 & echo $! > '\(pidFile.path)'; echo started; wait"
        do {
            _ = try await CommandActivity().execute(commandContext(script, timeout: .milliseconds(300)))
            Issue.record("a timed-out command succeeded")
        } catch {
            #expect(error.code == .timedOut)
        }
        let text = try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(pid_t(text))
        // Wait for the event, not for a time: the grandchild ends (or is a zombie) once the kill
        // is delivered, however loaded the machine. The guard only keeps a failure from hanging.
        let guardUntil = ContinuousClock.now + .seconds(120)
        while Self.isAlive(pid) && ContinuousClock.now < guardUntil {
            try await Task.sleep(for: .milliseconds(50))
        }
        let survived = Self.isAlive(pid)
        if survived { kill(pid, SIGKILL) }
        #expect(!survived, "the command's background child survived the timeout")
    }

    /// The timeout is on the context's clock, the worker's: on a manual clock a command an hour
    /// from its deadline keeps running until the clock is moved past it, then is killed at once
    /// (no real hour passes).
    @Test func timeoutFollowsTheContextClock() async throws {
        let clock = ManualWallClock(Instant(year: 2024, month: 3, day: 6))
        let journal = InMemoryStepJournal()
        let run = Task { try await CommandActivity().execute(commandContext("sleep 600", timeout: .seconds(3_600), journal: journal,
                                                                            clock: clock)) }
        // The timeout waits on the clock: once it does, the command is running.
        for _ in 0..<10_000 where clock.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .minutes(59))
        #expect(clock.sleeperCount == 1, "the command was stopped before its deadline")
        clock.advance(by: .minutes(1))
        do {
            _ = try await run.value
            Issue.record("a timed-out command succeeded")
        } catch let error as ActivityError {
            #expect(error.code == .timedOut)
        }
        #expect(try journal.lookup(step: "command")?.result?["state"] == "TimedOut")
    }

    /// Whether `pid` runs: it exists and is not a zombie waiting to be reaped.
    private static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return !stat[close...].dropFirst().trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    @Test func missingProgramIsAClearError() async {
        var context = commandContext("true")
        context.activity.kind = .command(.init(arguments: ["/nonexistent/refit-no-such-program"]))
        do {
            _ = try await CommandActivity().execute(context)
            Issue.record("a missing program succeeded")
        } catch {
            #expect(error.code == .commandFailed && !error.isRetryable)
        }
    }

    /// The command starts as from a shell: nothing blocked, nothing ignored, whatever the
    /// worker's threads block.
    @Test func signalsStartUnblockedWithTheirDefaultActions() async throws {
        // Several at once, from whichever threads the pool gives them (they differ in what they block).
        let tails = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    // The program itself, not a shell (a shell clears the mask of what it starts).
                    var context = commandContext("true")
                    context.activity.kind = .command(.init(arguments: ["grep", "-E", "^(SigBlk|SigIgn)", "/proc/self/status"]))
                    return try await CommandActivity().execute(context).outputTail
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for tail in tails {
            func mask(_ name: String) -> UInt64? {
                tail.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                    .flatMap { UInt64($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) }
            }
            #expect(mask("SigBlk") == 0, "\(tail)")
            // Signals 1–31; glibc keeps its own real-time signals (32, 33) out of reach.
            #expect(mask("SigIgn").map { $0 & 0x7fff_ffff } == 0, "\(tail)")
        }
    }

    /// A shell's `wait` needs SIGCHLD: with it blocked the script never ended (the timeout here
    /// only turns such a hang into a failure). Several at once, from whichever threads the pool
    /// gives them: the pool's threads differ in what they block.
    @Test func scriptsWaitingForTheirJobsEnd() async throws {
        let outcomes = try await withThrowingTaskGroup(of: CommandOutcome.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await CommandActivity().execute(commandContext("sleep 0.1 & sleep 0.1 & wait; echo both-done", timeout: .seconds(20)))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 6 && outcomes.allSatisfy { $0.exitStatus == 0 && $0.outputTail.contains("both-done") })
    }

    /// An attempt given up (an operator's cancel, a shutdown) cancels the runner's task: the
    /// command's whole group must die then, not run on until it exits by itself.
    @Test func cancelingTheTaskKillsTheCommandsGroup() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("refit-cancel-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let context = commandContext("sleep 300 & echo $! > \(pidFile); wait")
        let attempt = Task { try await CommandActivity().execute(context) }
        var pid: Int32?
        while pid == nil {
            try await Task.sleep(for: .milliseconds(20))
            pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let sleeper = try #require(pid)
        attempt.cancel()
        let dead = await Self.isDead(sleeper)
        if !dead { kill(sleeper, SIGKILL) }   // so that a broken build fails here rather than waits 300 s
        _ = try? await attempt.value
        #expect(dead, "the command's child \(sleeper) outlived the canceled attempt")
    }

    /// Gone, or a zombie waiting for whoever inherited it (killed, not yet reaped); waits a little
    /// for the kill to land.
    static func isDead(_ pid: Int32) async -> Bool {
        for _ in 0..<250 {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return true }
            if stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z") { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
