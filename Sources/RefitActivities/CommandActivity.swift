import Foundation
import RefitCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a command run did.
public struct CommandOutcome: Hashable, Sendable {
    public var exitStatus: Int32
    /// The last 4 KiB of combined stdout and stderr.
    public var outputTail: String
}

/// `Command` (extension): a local training command. It sees the window and the resolved input
/// and output locations in its environment, runs in its own process group, and a timeout
/// kills the whole group (a shell's children included).
public struct CommandActivity: Sendable {
    public static let tailBytes = 4096

    public init() {}

    public func execute(_ context: ActivityContext) async throws(ActivityError) -> CommandOutcome {
        guard case .command(let spec) = context.activity.kind, let program = spec.arguments.first else {
            throw ActivityError(.configuration, "Activity '\(context.activity.name)' is not a Command activity with arguments.")
        }
        var environment = ProcessInfo.processInfo.environment
        for entry in spec.environment { environment[entry.name] = entry.value }
        environment["REFIT_WINDOW_START"] = context.window.start.iso8601
        environment["REFIT_WINDOW_END"] = context.window.end.iso8601
        for input in context.activity.inputs {
            environment["REFIT_INPUT_" + Self.variableName(input.name)] = try location(input.name, context)
        }
        for output in context.activity.outputs {
            environment["REFIT_OUTPUT_" + Self.variableName(output)] = try location(output, context)
        }

        let journal = context.journal
        try context.journalCall { try journal.record(intent: ["program": program], step: "command") }
        let run: (status: Int32, tail: String, timedOut: Bool)
        do {
            run = try await ProcessGroupRunner.run(arguments: spec.arguments, environment: environment,
                                                   workingDirectory: spec.workingDirectory,
                                                   deadline: context.deadline, clock: context.clock,
                                                   tailBytes: Self.tailBytes)
        } catch {
            try? journal.record(failure: ["message": error.message], step: "command")
            throw error
        }
        let result = ["exitStatus": String(run.status), "outputTail": run.tail]
        if run.timedOut {
            try? journal.record(failure: result.merging(["state": "TimedOut"]) { $1 }, step: "command")
            throw ActivityError(.timedOut, "Command '\(program)' did not finish within the activity timeout; its process group was killed.")
        }
        guard run.status == 0 else {
            try? journal.record(failure: result, step: "command")
            // Like any failed activity run in ADF, a failed command is retried within the
            // window's retry policy (`retry`, `longRetry`); a program that cannot be started is not.
            throw ActivityError(.commandFailed, "Command '\(program)' exited with status \(run.status).", isRetryable: true)
        }
        // Written with the attempt's outcome: a crash in between runs the command again, as a
        // crash just before this record would.
        try context.journalCall { try journal.record(laterResult: result, step: "command") }
        try context.journalCall { try journal.handOver() }
        return CommandOutcome(exitStatus: run.status, outputTail: run.tail)
    }

    /// `my-data.v2` → `MY_DATA_V2`.
    public static func variableName(_ name: String) -> String {
        String(name.uppercased().unicodeScalars.map { scalar -> Character in
            (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) ? Character(scalar) : "_"
        })
    }

    /// A FileShare dataset's local path, else the dataset's `container/path` (or S3 key).
    private func location(_ datasetName: String, _ context: ActivityContext) throws(ActivityError) -> String {
        let dataset = try context.dataset(datasetName)
        let path = try context.path(of: dataset)
        if dataset.kind == .fileShare, let service = context.factory.linkedServices[dataset.linkedServiceName],
           case .fileServer(let files) = service.kind {
            return context.folder(of: files) + "/" + path
        }
        if dataset.kind == .amazonS3, let bucket = dataset.location.bucketName { return bucket + "/" + path }
        return path
    }
}

/// posix_spawn in a fresh process group with combined output captured through one pipe.
enum ProcessGroupRunner {
    /// Runs the command; at `deadline` on `clock` (if any) its process group is killed.
    static func run(arguments original: [String], environment: [String: String], workingDirectory: String?,
                    deadline: WallInstant?, clock: any WallClock, tailBytes: Int) async throws(ActivityError) -> (status: Int32, tail: String, timedOut: Bool) {
        // posix_spawn_file_actions_addchdir_np is not exposed everywhere: change directory in a shell
        // that then execs the program (same process, same group).
        let arguments = workingDirectory.map { ["/bin/sh", "-c", "cd -- \"$0\" && exec \"$@\"", $0] + original } ?? original
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ActivityError(.commandFailed, "Could not create a pipe for the command.") }
        let (readFD, writeFD) = (fds[0], fds[1])
        // Close-on-exec, so commands spawned concurrently never inherit this pipe (which would keep
        // it open and the reader waiting); dup2 onto 1 and 2 clears the flag for our own child.
        _ = fcntl(readFD, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeFD, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeFD, 1)
        posix_spawn_file_actions_adddup2(&actions, writeFD, 2)
        posix_spawn_file_actions_addclose(&actions, readFD)
        posix_spawn_file_actions_addclose(&actions, writeFD)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The command starts as from a shell: no signal blocked, every signal's action the
        // default. Otherwise it would inherit the spawning thread's mask (the worker's threads
        // block SIGCHLD, SIGTERM, SIGINT and most others), so a script's `wait` could hang and
        // `timeout` or `kill -TERM` inside it would do nothing.
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }

        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(writeFD)
        guard spawned == 0 else {
            close(readFD)
            throw ActivityError(.commandFailed, "Command '\(arguments[0])' could not be started: \(String(cString: strerror(spawned))).")
        }

        let child = pid
        let tail = OutputTail(limit: tailBytes)
        let reader = Thread { [readFD] in
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while true {
                let n = read(readFD, &buffer, buffer.count)
                if n > 0 { tail.append(buffer[0..<n]) } else if n < 0 && errno == EINTR { continue } else { break }
            }
            close(readFD)
            tail.close()
        }
        reader.start()

        // waitpid blocks: wait on a thread of its own, never on the cooperative pool (a blocked
        // pool thread would delay the timeout's kill below).
        let waiter = Task { () -> Int32 in
            await withCheckedContinuation { continuation in
                Thread {
                    var status: Int32 = 0
                    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                    continuation.resume(returning: status)
                }.start()
            }
        }
        var timedOut = false
        let killer: Task<Void, Never>? = deadline.map { deadline in
            Task.detached {
                do { try await clock.sleep(until: deadline) } catch { return }
                tail.markTimedOut()
                kill(-child, SIGKILL)
            }
        }
        // The attempt's task is canceled when the attempt is given up: an operator's cancel, a
        // shutdown past its grace period, a lost lease, the worker's own timeout. The command
        // must not outlive it (it would run on as an orphan while another attempt starts), so
        // its group is killed then, as at the deadline.
        let raw = await withTaskCancellationHandler {
            await waiter.value
        } onCancel: {
            kill(-child, SIGKILL)
        }
        killer?.cancel()
        timedOut = tail.timedOut
        // Strays left in the group may still hold the pipe open; kill the group so the reader ends.
        kill(-child, SIGKILL)
        let text = await tail.finished()
        let exitStatus: Int32 = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        return (exitStatus, text, timedOut)
    }
}

/// The last `limit` bytes of output, filled by the reader thread.
final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var bytes: [UInt8] = []
    private var done = false
    private var waiters: [CheckedContinuation<String, Never>] = []
    private(set) var timedOut = false

    init(limit: Int) { self.limit = limit }

    func append(_ chunk: ArraySlice<UInt8>) {
        lock.lock(); defer { lock.unlock() }
        bytes.append(contentsOf: chunk)
        if bytes.count > limit * 2 { bytes.removeFirst(bytes.count - limit) }
    }

    func markTimedOut() { lock.lock(); timedOut = true; lock.unlock() }

    func close() {
        lock.lock()
        done = true
        let pending = waiters; waiters = []
        let text = textLocked()
        lock.unlock()
        for waiter in pending { waiter.resume(returning: text) }
    }

    func finished() async -> String {
        await withCheckedContinuation { continuation in
            lock.lock()
            if done {
                let text = textLocked()
                lock.unlock()
                continuation.resume(returning: text)
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    private func textLocked() -> String {
        String(decoding: bytes.suffix(limit), as: UTF8.self)
    }
}
