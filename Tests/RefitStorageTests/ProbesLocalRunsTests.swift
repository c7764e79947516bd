import Foundation
import RefitCore
import RefitDefinitions
@testable import RefitStorage
import Testing

/// A large FileShare probe is cut into runs of slices walked side by side; the answer must be the
/// one a walk per day gives.
@Suite struct ProbesLocalRunsTests {
    @Test func runsAreContiguousInTimeAndCoverEverySliceOnce() {
        let slices = hourlySlices(1_000).reversed().map { $0 }
        #expect(LocalFolderLocation.runs(of: slices, processors: 1).count == 1)
        #expect(LocalFolderLocation.runs(of: Array(slices.prefix(2 * LocalFolderLocation.minimumRun - 1)), processors: 8).count == 1)

        let runs = LocalFolderLocation.runs(of: slices, processors: 3)
        #expect(runs.count == 3)
        #expect(runs.flatMap { $0 } == slices.sorted())
        for (earlier, later) in zip(runs, runs.dropFirst()) {
            #expect(earlier.last!.start < later.first!.start)
        }
        // More processors than runs of the minimum length: as many runs as there are such runs.
        #expect(LocalFolderLocation.runs(of: slices, processors: 64).count == 1_000 / LocalFolderLocation.minimumRun)
    }

    @Test func aProbeCutIntoRunsAnswersLikeOneWalkPerDay() async throws {
        let host = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: host) }
        let days = 25
        let slices = hourlySlices(24 * days)
        let dataset = probeDataset(.fileShare, folder: "data/{Year}/{Month}/{Day}", file: "{Hour}.csv")
        for (n, slice) in slices.enumerated() where n % 7 != 3 {
            let c = slice.start.components
            try write(String(repeating: "x", count: n % 5 + 1),
                      to: String(format: "data/2026/%02d/%02d/%02d.csv", c.month, c.day, c.hour), under: host)
        }
        // Day 13 is a file where its folder should be: a failure for that day's slices only.
        try FileManager.default.removeItem(at: host.appendingPathComponent("data/2026/01/13"))
        try write("not a folder", to: "data/2026/01/13", under: host)

        let location = LocalFolderLocation(host: host.path, baseDirectory: "/")
        let whole = await location.probe(slices.shuffled(), of: dataset)
        #expect(whole.count == slices.count)
        for day in 0..<days {
            let daySlices = Array(slices[(24 * day)..<(24 * day + 24)])
            let alone = await location.probe(daySlices, of: dataset)
            for slice in daySlices {
                #expect(whole[slice] == alone[slice], "slice \(slice)")
            }
        }
        let failedDay = slices[(24 * 12)..<(24 * 13)]
        #expect(failedDay.allSatisfy { if case .failed(_, true)? = whole[$0] { true } else { false } })
        let present = whole.values.filter { if case .present = $0 { true } else { false } }.count
        let written = (0..<slices.count).filter { $0 % 7 != 3 && !(24 * 12..<24 * 13).contains($0) }.count
        #expect(present == written)
    }

    /// The host folder is worked out on the text; it must be what Foundation's URL made of it.
    @Test func hostFoldersAsFoundationStandardizesThem() {
        let hosts = ["/a/b", "/a//b", "/a/./b", "/a/../b", "/../a", "/a/b/..", "/a/b/../../..", "/", "//", "/a/", "/a/b/./",
                     "/.", "/..", "/a/...", "/a/.b/../c", "/a/b//../c", "/tmp/x y/z", "/a/%20b", "/a/b?c", "/a#b/c", "/a:b/c",
                     "data", "./data", "../data", "data/", "", ".", "a//b", "a/../../..", "~/x/../y", "é/ü"]
        for base in ["/s", "/s/", "/s/t/..", "rel", "rel/../x", "/"] {
            for host in hosts {
                let resolved: String
                if host.hasPrefix("/") {
                    resolved = host
                } else if host.hasPrefix("~/") {
                    resolved = (host as NSString).expandingTildeInPath
                } else {
                    resolved = URL(fileURLWithPath: base).appendingPathComponent(host).path
                    #expect(SecretResolver.resolvePath(host, base: base) == resolved, "resolvePath '\(host)' in '\(base)'")
                }
                var expected = URL(fileURLWithPath: resolved).standardizedFileURL.path
                while expected.count > 1 && expected.hasSuffix("/") { expected.removeLast() }
                #expect(LocalFolderLocation(host: host, baseDirectory: base).root == expected, "host '\(host)' in '\(base)'")
            }
        }
    }
}
