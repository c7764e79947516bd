import Testing
@testable import RefitCore

/// `partitionedBy` token expansion (docs/SEMANTICS.md §2.4) and path safety.
@Suite struct PartitionedPathTests {
    let sliceStartYMDH: [PartitionToken] = [
        .init(name: "Year", date: .sliceStart, format: "yyyy"), .init(name: "Month", date: .sliceStart, format: "MM"),
        .init(name: "Day", date: .sliceStart, format: "dd"), .init(name: "Hour", date: .sliceStart, format: "HH"),
    ]

    @Test("[BL1] {Slice} with yyyyMMddHH → wikidatagateway/wikisampledataout/2014100103 and …04")
    func blobExample() throws {
        let tokens = [PartitionToken(name: "Slice", date: .sliceStart, format: "yyyyMMddHH")]
        let template = "wikidatagateway/wikisampledataout/{Slice}"
        #expect(try PartitionedPath.expand(template, tokens: tokens, slice: slice("2014-10-01T03:00:00Z", "2014-10-01T04:00:00Z"))
                == "wikidatagateway/wikisampledataout/2014100103")
        #expect(try PartitionedPath.expand(template, tokens: tokens, slice: slice("2014-10-01T04:00:00Z", "2014-10-01T05:00:00Z"))
                == "wikidatagateway/wikisampledataout/2014100104")
    }

    @Test("[SE0] %M, %d, %H (unpadded) → mypath/2015/1/1/8, /9, /10")
    func unpaddedSE0() throws {
        let tokens: [PartitionToken] = [
            .init(name: "Year", date: .sliceStart, format: "yyyy"), .init(name: "Month", date: .sliceStart, format: "%M"),
            .init(name: "Day", date: .sliceStart, format: "%d"), .init(name: "Hour", date: .sliceStart, format: "%H"),
        ]
        for (hour, expected) in [(8, "mypath/2015/1/1/8"), (9, "mypath/2015/1/1/9"), (10, "mypath/2015/1/1/10")] {
            let start = Instant(year: 2015, month: 1, day: 1, hour: hour)
            #expect(try PartitionedPath.expand("mypath/{Year}/{Month}/{Day}/{Hour}", tokens: tokens,
                                               slice: Slice(start: start, end: start + .hours(1))) == expected)
        }
    }

    @Test("[SE1] docs/SAMPLES.md §5.6 yyyy/MM/dd/HH → mypath/2015/01/01/08")
    func paddedSE1() throws {
        #expect(try PartitionedPath.expand("mypath/{Year}/{Month}/{Day}/{Hour}", tokens: sliceStartYMDH,
                                           slice: slice("2015-01-01T08:00:00Z", "2015-01-01T09:00:00Z")) == "mypath/2015/01/01/08")
    }

    @Test("[FN1] the doc's {Hour} with format hh is the 12-hour clock: 17:00 → 05.csv")
    func hhQuirk() throws {
        let tokens = [PartitionToken(name: "Hour", date: .sliceStart, format: "hh")]
        #expect(try PartitionedPath.expand("{Hour}.csv", tokens: tokens, slice: slice("2014-10-01T17:00:00Z", "2014-10-01T18:00:00Z")) == "05.csv")
    }

    @Test("[BE1] docs/SAMPLES.md §3.3 folderpart/filepart, and SliceEnd tokens")
    func batchExecutionSample() throws {
        let tokens: [PartitionToken] = [
            .init(name: "folderpart", date: .sliceStart, format: "yyyyMMdd"), .init(name: "filepart", date: .sliceStart, format: "HHmmss"),
            .init(name: "end", date: .sliceEnd, format: "yyyyMMdd"),
        ]
        let s = slice("2016-02-13", "2016-02-28")
        #expect(try PartitionedPath.expand("azuremltesting/scored/{folderpart}/", tokens: tokens, slice: s) == "azuremltesting/scored/20160213/")
        #expect(try PartitionedPath.expand("{filepart}result.csv", tokens: tokens, slice: s) == "000000result.csv")
        #expect(try PartitionedPath.expand("to-{end}/ü-{end}", tokens: tokens, slice: s) == "to-20160228/ü-20160228")
        #expect(try PartitionedPath.expand("no tokens", tokens: [], slice: s) == "no tokens")
    }

    @Test("unknown tokens (names are case-sensitive) and unclosed braces are errors with offsets")
    func errors() {
        let s = slice("2015-01-01", "2015-01-02")
        #expect(throws: PartitionedPathError(offset: 7, message: "unknown partition token {year}; partitionedBy defines Year, Month, Day, Hour")) {
            try PartitionedPath.expand("mypath/{year}", tokens: sliceStartYMDH, slice: s)
        }
        #expect(throws: PartitionedPathError(offset: 0, message: "unknown partition token {x}; the dataset has no partitionedBy entries")) {
            try PartitionedPath.expand("{x}", tokens: [], slice: s)
        }
        #expect(throws: PartitionedPathError(offset: 2, message: "'{' at position 3 has no closing '}'")) {
            try PartitionedPath.expand("a/{Year", tokens: sliceStartYMDH, slice: s)
        }
        let bad = [PartitionToken(name: "H", date: .sliceStart, format: "H")]
        #expect(PartitionedPath.issues(in: "x/{H}", tokens: bad).map(\.offset) == [2])
        #expect(PartitionedPath.issues(in: "{Year}/{Nope}/{", tokens: sliceStartYMDH).map(\.offset) == [7, 14])
    }

    @Test("tokenReferences gives names and 0-based scalar offsets for the loader's columns")
    func references() {
        let refs = PartitionedPath.tokenReferences(in: "é/{Year}/x{Hour}{}")
        #expect(refs.map(\.name) == ["Year", "Hour", ""])
        #expect(refs.map(\.offset) == [2, 10, 16])
    }

    @Test("escapesRoot: absolute paths, .. segments, backslashes and NUL", arguments: [
        ("container/2015/01", false), ("a/..b/c", false), ("a/b..", false), ("a/./b", false), ("", false),
        ("/etc/passwd", true), ("a/../../b", true), ("..", true), ("a/..", true), ("a\\b", true), ("a\u{0}b", true), ("C:/x", true),
    ])
    func escapes(_ path: String, _ expected: Bool) {
        #expect(PartitionedPath.escapesRoot(path) == expected)
    }

    /// The definition `escapesRoot` had before it became a one-pass byte scan, kept as the reference.
    static func escapesRootReference(_ expanded: String) -> Bool {
        if expanded.hasPrefix("/") { return true }
        let scalars = Array(expanded.unicodeScalars)
        if scalars.count >= 2, scalars[1] == ":", scalars[0].isASCII, scalars[0].properties.isAlphabetic { return true }
        if scalars.contains("\\") || scalars.contains("\u{0}") { return true }
        return expanded.split(separator: "/", omittingEmptySubsequences: false).contains("..")
    }

    @Test("escapesRoot agrees with the scalar definition on every string of up to 4 characters")
    func escapesMatchesReference() {
        let alphabet: [String] = ["/", ".", "a", "Z", ":", "\\", "\u{0}", "é", "1"]
        var strings = [""]
        var frontier = [""]
        for _ in 1...4 {
            frontier = frontier.flatMap { prefix in alphabet.map { prefix + $0 } }
            strings += frontier
        }
        let disagreements = strings.filter { PartitionedPath.escapesRoot($0) != Self.escapesRootReference($0) }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10).map { $0.debugDescription })")
    }

    @Test("a Template scanned once expands each slice, and throws its first problem at every expand")
    func templateReuse() throws {
        let template = PartitionedPath.Template("data/{Year}/{Month}/{Day}/{Hour}.csv", tokens: sliceStartYMDH)
        #expect(try template.expand(slice("2026-01-31T23:00:00Z", "2026-02-01T00:00:00Z")) == "data/2026/01/31/23.csv")
        #expect(try template.expand(slice("2026-02-01T00:00:00Z", "2026-02-01T01:00:00Z")) == "data/2026/02/01/00.csv")
        let unknown = PartitionedPath.Template("x/{Year}/{Minute}/{", tokens: sliceStartYMDH)
        for start in ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"] {
            #expect(throws: PartitionedPathError.self) { try unknown.expand(slice(start, "2026-01-01T02:00:00Z")) }
            do {
                _ = try unknown.expand(slice(start, "2026-01-01T02:00:00Z"))
            } catch {
                #expect(error.offset == 9 && error.message.hasPrefix("unknown partition token {Minute}"), "\(error)")
            }
        }
        let badFormat = PartitionedPath.Template("{Hour}", tokens: [.init(name: "Hour", date: .sliceStart, format: "q")])
        #expect(throws: PartitionedPathError.self) { try badFormat.expand(slice("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z")) }
        #expect(try PartitionedPath.Template("no tokens/at all", tokens: []).expand(slice("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"))
                == "no tokens/at all")
    }
}
