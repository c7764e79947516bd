import Foundation
@testable import RefitStore
import Testing

struct StoreTimestampTests {
    @Test func formatsUTCWholeSecondsWithZ() {
        let date = Date(timeIntervalSince1970: 1_706_742_000.75)  // 2024-01-31T23:00:00.75Z
        #expect(StoreTimestamp.string(from: date) == "2024-01-31T23:00:00Z")
        #expect(StoreTimestamp.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    }

    @Test func parsesOnlyTheStoredFormat() {
        #expect(StoreTimestamp.date(from: "2024-01-31T23:00:00Z") == Date(timeIntervalSince1970: 1_706_742_000))
        #expect(StoreTimestamp.date(from: "2024-01-31T23:00:00+01:00") == nil)
        #expect(StoreTimestamp.date(from: "2024-01-31T23:00:00.5Z") == nil)
        #expect(StoreTimestamp.date(from: "2024-01-31") == nil)
    }

    @Test func textOrderIsTimeOrder() {
        let dates = [0.0, 59, 60, 3599, 86_400, 1_706_742_000].map { Date(timeIntervalSince1970: $0) }
        let texts = dates.map(StoreTimestamp.string(from:))
        #expect(texts == texts.sorted())
    }
}
