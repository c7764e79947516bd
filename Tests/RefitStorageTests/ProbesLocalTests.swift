import Foundation
import RefitCore
import RefitHTTP
import RefitStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

private func fingerprint(_ outcome: ProbeOutcome?) -> DataFingerprint? {
    if case .present(let print)? = outcome { return print }
    return nil
}

private func isAbsent(_ outcome: ProbeOutcome?) -> Bool {
    if case .absent? = outcome { return true }
    return false
}

private func failure(_ outcome: ProbeOutcome?) -> (message: String, retryable: Bool)? {
    if case .failed(let message, let retryable)? = outcome { return (message, retryable) }
    return nil
}

@Suite struct ProbesLocalFolderTests {
    @Test func fileNameSlicesOfADayCostOneWalk() async throws {
        let host = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: host) }
        for hour in 0..<10 { try write(String(repeating: "x", count: hour + 1), to: String(format: "data/2026/01/01/%02d.csv", hour), under: host) }
        let events = ProbeEvents()
        let location = LocalFolderLocation(host: host.lastPathComponent, baseDirectory: host.deletingLastPathComponent().path,
                                           observer: events.observer)
        let dataset = probeDataset(.fileShare, folder: "data/{Year}/{Month}/{Day}", file: "{Hour}.csv")
        let slices = hourlySlices(24)
        let outcomes = await location.probe(slices, of: dataset)

        #expect(outcomes.count == 24)
        #expect(events.walks == 1)
        for (hour, slice) in slices.enumerated() {
            if hour < 10 {
                let print = try #require(fingerprint(outcomes[slice]))
                #expect(print.files.map(\.name) == [String(format: "data/2026/01/01/%02d.csv", hour)])
                #expect(print.totalBytes == Int64(hour + 1))
                #expect(print.files.first?.modified != nil)
                #expect(print.files.first?.etag == nil)
            } else {
                #expect(isAbsent(outcomes[slice]))
            }
        }
    }

    @Test func folderSlicesIgnoreHiddenUnderscoreAndEmptyFiles() async throws {
        let host = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: host) }
        try write("", to: "raw/2026010100/empty.csv", under: host)
        try write("x", to: "raw/2026010100/_SUCCESS", under: host)
        try write("x", to: "raw/2026010100/.crc", under: host)
        try write("x", to: "raw/2026010100/_temporary/part-0", under: host)
        try write("0123456789", to: "raw/2026010101/part-0", under: host)
        try write("x", to: "raw/2026010101/_temporary/part-1", under: host)
        try write("abc", to: "raw/2026010101/nested/part-2", under: host)
        let events = ProbeEvents()
        let location = LocalFolderLocation(host: host.path, baseDirectory: "/unused", observer: events.observer)
        let slices = hourlySlices(3)
        let outcomes = await location.probe(slices, of: probeDataset(.fileShare, folder: "raw/{Stamp}"))

        #expect(events.walks == 1)
        #expect(isAbsent(outcomes[slices[0]]))
        let print = try #require(fingerprint(outcomes[slices[1]]))
        #expect(print.files.map(\.name) == ["raw/2026010101/nested/part-2", "raw/2026010101/part-0"])
        #expect(print.totalBytes == 13)
        #expect(isAbsent(outcomes[slices[2]]))
    }

    @Test func readyMarkerDecidesPresence() async throws {
        let host = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: host) }
        try write("1,2\n", to: "out/2026010100/part-0.csv", under: host)
        let location = LocalFolderLocation(host: host.path, baseDirectory: "/")
        let dataset = probeDataset(.fileShare, folder: "out/{Stamp}", marker: "_SUCCESS")
        let slice = hourlySlices(1)[0]
        let before = await location.probe([slice], of: dataset)
        guard case .absent(let detail)? = before[slice] else { Issue.record("expected absent, got \(String(describing: before[slice]))"); return }
        #expect(detail.contains("_SUCCESS"))

        try write("", to: "out/2026010100/_SUCCESS", under: host)
        let after = await location.probe([slice], of: dataset)
        let print = try #require(fingerprint(after[slice]))
        #expect(print.files.map(\.name) == ["out/2026010100/part-0.csv"])
    }

    @Test func aFileWhereAFolderIsExpectedIsARetryableFailure() async throws {
        let host = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: host) }
        try write("not a folder", to: "data/2026", under: host)
        let location = LocalFolderLocation(host: host.path, baseDirectory: "/")
        let slices = hourlySlices(2)
        let outcomes = await location.probe(slices, of: probeDataset(.fileShare, folder: "data/{Year}/{Month}", file: "{Hour}.csv"))
        for slice in slices {
            let failed = try #require(failure(outcomes[slice]))
            #expect(failed.retryable)
            #expect(failed.message.contains("data/2026"))
        }
    }

    @Test(.enabled(if: geteuid() != 0, "root reads any folder; chmod cannot make one unreadable"))
    func permissionDeniedIsARetryableFailure() async throws {
        let host = try temporaryFolder()
        defer {
            chmod(host.appendingPathComponent("data").path, 0o755)
            try? FileManager.default.removeItem(at: host)
        }
        try write("x", to: "data/2026010100/a.csv", under: host)
        chmod(host.appendingPathComponent("data").path, 0)
        let location = LocalFolderLocation(host: host.path, baseDirectory: "/")
        let slice = hourlySlices(1)[0]
        let outcomes = await location.probe([slice], of: probeDataset(.fileShare, folder: "data/{Stamp}"))
        let failed = try #require(failure(outcomes[slice]))
        #expect(failed.retryable)
        #expect(failed.message.contains("permission denied"))
    }

    @Test func escapingPathsAndMissingHostsFail() async throws {
        let host = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: host) }
        let slice = hourlySlices(1)[0]
        let location = LocalFolderLocation(host: host.path, baseDirectory: "/")
        let escaping = await location.probe([slice], of: probeDataset(.fileShare, folder: "../elsewhere/{Stamp}"))
        let escaped = try #require(failure(escaping[slice]))
        #expect(!escaped.retryable)

        let missing = LocalFolderLocation(host: host.appendingPathComponent("nope").path, baseDirectory: "/")
        let outcome = await missing.probe([slice], of: probeDataset(.fileShare, folder: "x"))
        let failed = try #require(failure(outcome[slice]))
        #expect(failed.retryable)
        #expect(failed.message.contains("does not exist"))
    }

    @Test func factoryResolvesRelativeHostsAndReportsUnresolvableSecrets() async throws {
        let base = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: base) }
        try write("1", to: "share/in/2026010100.csv", under: base)
        let factory = Factory(linkedServices: [
            "files": LinkedService(name: "files", typeName: "OnPremisesFileServer", kind: .fileServer(.init(host: "share")),
                                   position: probesHere),
            "s3": LinkedService(name: "s3", typeName: "AwsAccessKey", kind: .awsAccessKey(.init(
                accessKeyId: "AKID", secretAccessKey: Secret(.environment("REFIT_TEST_UNSET_SECRET")))), position: probesHere),
            "blob": LinkedService(name: "blob", typeName: "AzureStorage", kind: .azureStorage(.init(
                connectionString: Secret(.file("missing-secret.txt")))), position: probesHere),
        ])
        let locations = StorageLocations(factory: factory, environment: [:], baseDirectory: base.path,
                                         http: HTTPClient())
        let slice = hourlySlices(1)[0]

        let files = probeDataset(.fileShare, service: "files", folder: "in", file: "{Stamp}.csv")
        let local = try #require(locations.location(for: files))
        #expect(fingerprint(await local.probe([slice], of: files)[slice])?.files.map(\.name) == ["in/2026010100.csv"])

        let s3 = probeDataset(.amazonS3, service: "s3", folder: "in", bucket: "b")
        let s3Outcome = await (try #require(locations.location(for: s3))).probe([slice], of: s3)
        let s3Failure = try #require(failure(s3Outcome[slice]))
        #expect(!s3Failure.retryable)
        #expect(s3Failure.message.contains("REFIT_TEST_UNSET_SECRET"))

        let blob = probeDataset(.azureBlob, service: "blob", folder: "c/in")
        let blobOutcome = await (try #require(locations.location(for: blob))).probe([slice], of: blob)
        let blobFailure = try #require(failure(blobOutcome[slice]))
        #expect(!blobFailure.retryable)
        #expect(blobFailure.message.contains("missing-secret.txt"))

        #expect(locations.location(for: probeDataset(.fileShare, service: "nowhere")) == nil)
    }
}

/// Waits for the next change event, or nil after `seconds`.
private func nextChange(_ iterator: inout AsyncStream<Void>.AsyncIterator, within seconds: Int = 10) async -> Bool? {
    let box = IteratorBox(iterator)
    let result = await withTaskGroup(of: Bool?.self) { group in
        group.addTask { await box.next() }
        group.addTask { try? await Task.sleep(for: .seconds(seconds)); return nil }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
    iterator = box.iterator
    return result
}

private final class IteratorBox: @unchecked Sendable {
    var iterator: AsyncStream<Void>.AsyncIterator
    init(_ iterator: AsyncStream<Void>.AsyncIterator) { self.iterator = iterator }
    func next() async -> Bool? { await iterator.next() != nil ? true : false }
}

@Suite struct ProbesFolderWatcherTests {
    @Test func firesForAFileInANewNestedFolderAndStopsCleanly() async throws {
        let host = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: host) }
        let watcher = try FolderWatcher(root: host.path, debounce: .milliseconds(50))
        var changes = watcher.changes.makeAsyncIterator()

        try FileManager.default.createDirectory(at: host.appendingPathComponent("2026"), withIntermediateDirectories: false)
        #expect(await nextChange(&changes) == true)
        try FileManager.default.createDirectory(at: host.appendingPathComponent("2026/01"), withIntermediateDirectories: false)
        #expect(await nextChange(&changes) == true)
        // Only seen if the watcher added a watch on the folder created after it started.
        try write("1,2\n", to: "2026/01/00.csv", under: host)
        #expect(await nextChange(&changes) == true)

        watcher.stop()
        #expect(await nextChange(&changes) == false)
    }

    @Test func refusesAMissingFolder() {
        #expect(throws: StorageError.self) { try FolderWatcher(root: "/nonexistent/refit-probes") }
    }
}
