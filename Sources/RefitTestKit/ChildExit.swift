import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Waiting for a child started with Foundation's `Process`, without trusting Foundation alone to
/// notice that it exited.
///
/// swift-corelibs-foundation learns of child exits from SIGCHLD, looking at the first exited child
/// with `waitid(P_ALL, …, WNOWAIT)`. When that child is not one of its own — in the test process,
/// `CommandActivity` runs programs with `posix_spawn` and reaps them with `waitpid` — it stops
/// there, and an exit of one of its own children whose SIGCHLD came meanwhile is never noticed:
/// `isRunning` stays true and `waitUntilExit()` spins forever (seen as a hung `make test`, with a
/// zombie `refit-mlsim`). So this waits for Foundation *or* for the child to be a zombie, and then
/// reaps it itself.
public enum ChildExit {
    /// Blocks until `process` has exited (at most `timeout`, when given) and returns its
    /// termination status as Foundation reports it: the exit code, or the signal number when a
    /// signal ended it. Nil when the timeout passed first.
    @discardableResult
    public static func wait(for process: Process, timeout: Duration? = nil) -> Int32? {
        let pid = process.processIdentifier
        let start = ContinuousClock.now
        var zombieSince: ContinuousClock.Instant?
        while true {
            if !process.isRunning { return process.terminationStatus }
            if isZombie(pid) {
                let now = ContinuousClock.now
                if let since = zombieSince {
                    // Give Foundation a moment to reap it the usual way, then do it here.
                    if now - since > .milliseconds(300) {
                        var status: Int32 = 0
                        if waitpid(pid, &status, WNOHANG) == pid { return decode(status) }
                    }
                } else {
                    zombieSince = now
                }
            }
            if let timeout, ContinuousClock.now - start > timeout { return nil }
            usleep(10_000)
        }
    }

    /// True when `pid` has exited but is not reaped yet (state `Z` in `/proc/PID/stat`).
    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// A `waitpid` status as Foundation's `terminationStatus`.
    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : signal
    }
}
