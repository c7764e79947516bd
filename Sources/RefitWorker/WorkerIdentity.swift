import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who holds a lease: `host:pid:start-nonce`. The process's start time (in clock ticks since
/// boot, from `/proc/PID/stat`) is part of the id, so a worker on the same host can tell a
/// lease holder that is gone — its pid no longer exists, or now belongs to another program
/// started later — from one that still runs, and recover the dead one's windows at once
/// instead of waiting for its lease to expire.
public struct WorkerIdentity: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    /// The process's start time in clock ticks since boot; nil where `/proc` is not available.
    public var startTicks: UInt64?
    public var nonce: String

    public var description: String { "\(host):\(pid):\(startTicks.map { String($0) } ?? "0")-\(nonce)" }

    /// This process.
    public static func current(host: String = ProcessInfo.processInfo.hostName) -> WorkerIdentity {
        let pid = ProcessInfo.processInfo.processIdentifier
        return WorkerIdentity(host: host, pid: pid, startTicks: startTicks(of: pid),
                              nonce: String(UUID().uuidString.prefix(6)).lowercased())
    }

    public init(host: String, pid: Int32, startTicks: UInt64?, nonce: String) {
        self.host = host; self.pid = pid; self.startTicks = startTicks; self.nonce = nonce
    }

    /// Parses `host:pid:start-nonce` (the host may not contain ':'); nil for other forms
    /// (older ids, tests' names), which are never judged dead.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let pid = Int32(parts[1]), pid > 0 else { return nil }
        let tail = parts[2].split(separator: "-", maxSplits: 1)
        guard let first = tail.first, let ticks = UInt64(first) else { return nil }
        self.init(host: String(parts[0]), pid: pid, startTicks: ticks == 0 ? nil : ticks,
                  nonce: tail.count > 1 ? String(tail[1]) : "")
    }

    /// Whether this lease holder is known to be gone: it ran on `host` (this machine) and its
    /// process no longer exists, or its pid now belongs to a process started at another time.
    /// A holder on another host, or one whose state cannot be read, is not judged dead.
    public func isKnownDead(onHost localHost: String = ProcessInfo.processInfo.hostName) -> Bool {
        guard host == localHost else { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let expected = startTicks, let actual = Self.startTicks(of: pid) else { return false }
        return actual != expected
    }

    /// Field 22 of `/proc/PID/stat` (the process's start time); nil when unreadable.
    static func startTicks(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After the command name: state is field 3, so start time (22) is the 20th field here.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }
}
