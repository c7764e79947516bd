import Testing
@testable import RefitStorage

@Suite("SliceTarget paths")
struct SliceTargetTests {
    @Test("normalize agrees with splitting on '/' and dropping empty and '.' segments, for every string of up to 5 characters")
    func normalizeMatchesSplitting() {
        let alphabet: [String] = ["/", ".", "a", "é"]
        var strings = [""]
        var frontier = [""]
        for _ in 1...5 {
            frontier = frontier.flatMap { prefix in alphabet.map { prefix + $0 } }
            strings += frontier
        }
        let disagreements = strings.filter { path in
            SliceTarget.normalize(path) != path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    }
}
