import Foundation
import RefitCore
import RefitHTTP
@testable import RefitStorage
import Testing

private func fingerprint(_ outcome: ProbeOutcome?) -> DataFingerprint? {
    if case .present(let print)? = outcome { return print }
    return nil
}

private func isAbsent(_ outcome: ProbeOutcome?) -> Bool {
    if case .absent? = outcome { return true }
    return false
}

private let credentials = SigV4Credentials(region: "us-east-1", accessKeyId: "AKIDPROBES", secretAccessKey: "probe-secret-value")

/// Against a real moto S3 server on loopback (started per test; `moto[server]` from scripts/setup.sh).
@Suite(.serialized, .timeLimit(.minutes(1))) struct ProbesS3Tests {
    @Test func manySlicesOneListingWithSizesAndETags() async throws {
        let moto = try await MotoServer()
        defer { moto.stop() }
        try await moto.createBucket("feed")
        for hour in 0..<5 {
            try await moto.put("feed", String(format: "data/2026/01/01/%02d.csv", hour), "row,\(hour)\n")
        }
        try await moto.put("feed", "data/2026/01/01/_SUCCESS", "")
        let events = ProbeEvents()
        let location = S3Location(credentials: credentials, serviceURL: moto.url + "/", http: moto.http,
                                  observer: events.observer)
        let dataset = probeDataset(.amazonS3, folder: "data/{Year}/{Month}/{Day}", file: "{Hour}.csv", bucket: "feed")
        let slices = hourlySlices(24)
        let outcomes = await location.probe(slices, of: dataset)

        #expect(events.lists == 1)
        #expect(events.heads == 0)
        for (hour, slice) in slices.enumerated() {
            if hour < 5 {
                let print = try #require(fingerprint(outcomes[slice]))
                let file = try #require(print.files.first)
                #expect(file.name == String(format: "data/2026/01/01/%02d.csv", hour))
                #expect(file.size == Int64("row,\(hour)\n".utf8.count))
                #expect(file.etag == md5Hex("row,\(hour)\n"))
                #expect(file.modified != nil)
            } else {
                #expect(isAbsent(outcomes[slice]))
            }
        }

        // One slice naming one object: a HEAD, same fingerprint.
        let single = await location.probe([slices[2]], of: dataset)
        #expect(events.heads == 1)
        #expect(fingerprint(single[slices[2]]) == fingerprint(outcomes[slices[2]]))
        let missing = await location.probe([slices[7]], of: dataset)
        #expect(isAbsent(missing[slices[7]]))
    }

    @Test func followsContinuationTokens() async throws {
        let moto = try await MotoServer()
        defer { moto.stop() }
        try await moto.createBucket("pages")
        for part in 0..<10 { try await moto.put("pages", "raw/2026010100/part-\(part)", "p\(part)") }
        try await moto.put("pages", "raw/2026010100/_temporary/part-x", "tmp")
        let events = ProbeEvents()
        let location = S3Location(credentials: credentials, serviceURL: moto.url, http: moto.http, pageSize: 3,
                                  observer: events.observer)
        let slice = hourlySlices(1)[0]
        let outcomes = await location.probe([slice], of: probeDataset(.amazonS3, folder: "raw/{Stamp}", bucket: "pages"))
        let print = try #require(fingerprint(outcomes[slice]))
        #expect(print.files.count == 10)
        #expect(print.totalBytes == 20)
        #expect(events.lists == 4)  // 11 keys, 3 per page
    }

    @Test func aCommonPrefixTooLargeFallsBackToPerSliceListings() async throws {
        let moto = try await MotoServer()
        defer { moto.stop() }
        try await moto.createBucket("wide")
        for part in 0..<6 { try await moto.put("wide", "raw/2026010110/part-\(part)", "x") }
        try await moto.put("wide", "raw/2026010111/part-0", "x")
        let events = ProbeEvents()
        let location = S3Location(credentials: credentials, serviceURL: moto.url, http: moto.http, batchLimit: 5,
                                  observer: events.observer)
        let slices = hourlySlices(3, from: 10)  // 7 objects under the common prefix raw/202601011
        let outcomes = await location.probe(slices, of: probeDataset(.amazonS3, folder: "raw/{Stamp}", bucket: "wide"))
        #expect(fingerprint(outcomes[slices[0]])?.files.count == 6)
        #expect(fingerprint(outcomes[slices[1]])?.files.map(\.name) == ["raw/2026010111/part-0"])
        #expect(isAbsent(outcomes[slices[2]]))
        #expect(events.lists == 4)  // the abandoned common-prefix listing, then one per slice
    }

    @Test func missingBucketIsNotRetryableAndAClosedPortIs() async throws {
        let moto = try await MotoServer()
        let slices = hourlySlices(2)
        let dataset = probeDataset(.amazonS3, folder: "raw/{Stamp}", bucket: "nobucket")
        let location = S3Location(credentials: credentials, serviceURL: moto.url, http: moto.http)
        let outcomes = await location.probe(slices, of: dataset)
        guard case .failed(let message, let retryable)? = outcomes[slices[0]] else {
            Issue.record("expected a failure, got \(String(describing: outcomes[slices[0]]))"); return
        }
        #expect(!retryable)
        #expect(message.contains("nobucket"))
        #expect(!message.contains("probe-secret-value"))

        let url = moto.url
        moto.stop()
        let closed = S3Location(credentials: credentials, serviceURL: url, http: moto.http)
        let unreachable = await closed.probe(slices, of: dataset)
        guard case .failed(let closedMessage, let closedRetryable)? = unreachable[slices[1]] else {
            Issue.record("expected a failure, got \(String(describing: unreachable[slices[1]]))"); return
        }
        #expect(closedRetryable)
        #expect(!closedMessage.contains("probe-secret-value"))
    }

    @Test func accessDeniedIsRetryableAndNamesNoSecret() {
        let body = Data("<Error><Code>SignatureDoesNotMatch</Code><Message>probe-secret-value</Message></Error>".utf8)
        let failure = StoreFailure.status(403, body: body, operation: "Listing s3://feed/data/")
        #expect(failure.retryable)
        #expect(failure.message.contains("access denied"))
        #expect(failure.message.contains("SignatureDoesNotMatch"))
        #expect(!failure.message.contains("probe-secret-value"))
        #expect(StoreFailure.status(503, body: Data(), operation: "x").retryable)
    }

    @Test func listingURLsAreCanonicalAndPathStyle() {
        let location = S3Location(credentials: credentials, serviceURL: "http://127.0.0.1:9000/", http: HTTPClient())
        #expect(location.bucketURL("feed") == "http://127.0.0.1:9000/feed")
        let aws = S3Location(credentials: credentials, serviceURL: nil, http: HTTPClient())
        #expect(aws.bucketURL("feed") == "https://feed.s3.us-east-1.amazonaws.com")
        #expect(aws.bucketURL("my.feed") == "https://s3.us-east-1.amazonaws.com/my.feed")
        #expect(SigV4.canonicalQuery([("prefix", "data/2026/"), ("list-type", "2")]) == "list-type=2&prefix=data%2F2026%2F")
    }
}
