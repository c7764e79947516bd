import Foundation
import Testing
@testable import RefitCore

/// The stored text of a data fingerprint: written by hand, read back by hand or by `JSONDecoder`.
@Suite struct DataFingerprintStoredJSONTests {
    let sample = DataFingerprint(files: [
        .init(name: "data/Training/2024/01/01/00/part \"1\".csv", size: 1_024, modified: 1_704_067_200),
        .init(name: "blob/ü\\tab\there\u{1}.csv", size: 0, etag: "\"0x8DC1\"", modified: nil),
        .init(name: "z", size: -1),
    ])

    @Test("storedJSON reads back to the same fingerprint, and is what JSONEncoder writes with sorted keys")
    func roundTrip() throws {
        #expect(DataFingerprint(storedJSON: sample.storedJSON) == sample)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let encoded = String(decoding: try encoder.encode(sample), as: UTF8.self)
        #expect(try JSONDecoder().decode(DataFingerprint.self, from: Data(sample.storedJSON.utf8)) == sample)
        #expect(DataFingerprint(storedJSON: encoded) == sample)
        #expect(DataFingerprint(files: []).storedJSON == "{\"files\":[]}")
        #expect(DataFingerprint(storedJSON: "{\"files\":[]}") == DataFingerprint(files: []))
    }

    @Test("text written by older versions (escaped slashes, \\u escapes, other whitespace and key order) still reads")
    func otherShapes() {
        let expected = DataFingerprint(files: [.init(name: "a/é.csv", size: 3, etag: "e", modified: 5)])
        #expect(DataFingerprint(storedJSON: #"{"files":[{"etag":"e","modified":5,"name":"a\/\u00e9.csv","size":3}]}"#) == expected)
        #expect(DataFingerprint(storedJSON: #"{ "files" : [ { "size": 3, "name": "a/é.csv", "modified": 5, "etag": "e" } ] }"#) == expected)
    }

    @Test("text that is not a fingerprint reads as nil", arguments: [
        "", "{}", "[]", #"{"files":[{"name":"a"}]}"#, #"{"files":[{"size":1}]}"#, #"{"files":[{"name":"a","size":"1"}]}"#,
        #"{"files":[]"#, #"{"files":[]}x"#, "not json",
    ])
    func notFingerprints(_ text: String) {
        #expect(DataFingerprint(storedJSON: text) == nil)
    }

    @Test("numbers at the edges of Int64, and escapes inside names, read back exactly")
    func edges() {
        let extremes = DataFingerprint(files: [
            .init(name: "a", size: Int64.max, modified: Int64.min),
            .init(name: "b\\\"c/d", size: 0, etag: "", modified: -1),
        ])
        #expect(DataFingerprint(storedJSON: extremes.storedJSON) == extremes)
        // One past Int64: not a fingerprint either way.
        #expect(DataFingerprint(storedJSON: #"{"files":[{"name":"a","size":9223372036854775808}]}"#) == nil)
        #expect(DataFingerprint(storedJSON: #"{"files":[{"name":"a","size":-}]}"#) == nil)
        // Keys in another order than the writers use: read by the general decoder, same result.
        #expect(DataFingerprint(storedJSON: #"{"files":[{"name":"a","etag":"e","size":1}]}"#)
                == DataFingerprint(files: [.init(name: "a", size: 1, etag: "e")]))
    }
}
