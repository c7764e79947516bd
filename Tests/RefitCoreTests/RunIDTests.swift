import Foundation
import RefitCore
import Testing

struct RunIDTests {
    @Test("a run id is a lowercase RFC 9562 UUID of version 8 (variant bits 10)")
    func shape() throws {
        for _ in 0..<1_000 {
            let id = RunID.make()
            let uuid = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(uuid.uuidString.lowercased() == id)
            let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 8)
            #expect(bytes[8] >> 6 == 0b10)
        }
    }

    @Test("its first three hex digits count sixteenths of a second modulo 4,096, so ids made close together sort together")
    func clusteredByTime() throws {
        var generator = SystemRandomNumberGenerator()
        let at: UInt64 = 1_796_515_200 * 16 + 8   // 2026-12-06T00:00:00.5Z, 0x808 into its cycle
        #expect(at % 4_096 == 0x808)
        let id = RunID.make(sixteenths: at, using: &generator)
        #expect(id.hasPrefix("808"))
        // A later sixteenth of the same cycle sorts after; the next cycle starts again at 000.
        for _ in 0..<100 {
            #expect(RunID.make(sixteenths: at + 1, using: &generator) > RunID.make(sixteenths: at, using: &generator))
        }
        let cycle = at - at % 4_096
        #expect(RunID.make(sixteenths: cycle + 4_095, using: &generator).hasPrefix("fff"))
        #expect(RunID.make(sixteenths: cycle + 4_096, using: &generator).hasPrefix("000"))
        #expect(RunID.make(sixteenths: at + 4_096, using: &generator).hasPrefix("808"))
        #expect(RunID.make(now: Date(timeIntervalSince1970: 1_796_515_200.5)).hasPrefix("808"))
    }

    @Test("ids of the same sixteenth differ within their first eight characters (20 random bits), and as a whole")
    func shortPrefixesStayDistinct() {
        var generator = SystemRandomNumberGenerator()
        let ids = (0..<1_000).map { _ in RunID.make(sixteenths: 28_744_243_200, using: &generator) }
        #expect(Set(ids).count == 1_000)
        // 1,000 ids over 2^20 prefixes: a handful of shared ones at most, never most of them.
        #expect(Set(ids.map { $0.prefix(8) }).count > 990)
        #expect(Set(ids.map { $0.prefix(3) }).count == 1)
    }
}
