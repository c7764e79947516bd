import RefitCore
import Synchronization
import Testing

struct ProcessMemoTests {
    struct Refused: Error {}

    @Test func makesEachValueOnceFailuresAreNotKeptAndAFullMemoStartsOver() throws {
        let memo = ProcessMemo<String, Int>(limit: 2)
        let made = Mutex<[String]>([])
        func value(_ key: String) -> Int {
            memo.value(for: key) { made.withLock { $0.append(key) }; return key.count }
        }
        #expect(value("a") == 1)
        #expect(value("a") == 1)
        #expect(value("bb") == 2)
        #expect(made.withLock { $0 } == ["a", "bb"])
        // A failure leaves nothing behind: the next call makes the value.
        #expect(throws: Refused.self) { try memo.value(for: "ccc") { () throws(Refused) -> Int in throw Refused() } }
        #expect(value("ccc") == 3)   // the memo was full: it started over with "ccc"
        #expect(value("a") == 1)     // so "a" is made again
        #expect(made.withLock { $0 } == ["a", "bb", "ccc", "a"])
    }
}
