import Foundation
import Testing

@testable import RefitMLSim

@Suite("Blob store")
struct BlobStoreTests {
    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("refit-blobstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("a persisted store keeps containers, blobs and properties across a restart")
    func persistence() async throws {
        let state = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: state) }
        let first = try BlobStore(stateDirectory: state)
        try await first.createContainer("models")
        // "a" and "a/b" coexist in Azure's flat namespace; so they must on disk.
        let a = try await first.putBlob(container: "models", name: "a", data: Data("A".utf8),
                                        settings: BlobContentSettings(contentType: "text/plain"),
                                        metadata: ["k": "v"])
        try await first.putBlob(container: "models", name: "a/b", data: Data("AB".utf8))
        try await first.putBlob(container: "models", name: "../../escape", data: Data("E".utf8))
        try await first.putBlob(container: "models", name: "x//y/", data: Data("XY".utf8))
        try await first.putBlob(container: "models", name: "gone", data: Data("G".utf8))
        try await first.deleteBlob(container: "models", name: "gone")
        try await first.createContainer("empty")

        let second = try BlobStore(stateDirectory: state)
        #expect(await second.containerNames() == ["empty", "models"])
        let reloaded = try await second.getBlob(container: "models", name: "a")
        #expect(reloaded.data == Data("A".utf8))
        #expect(reloaded.properties == a)
        #expect(try await second.getBlob(container: "models", name: "a/b").data == Data("AB".utf8))
        #expect(try await second.getBlob(container: "models", name: "../../escape").data == Data("E".utf8))
        #expect(try await second.getBlob(container: "models", name: "x//y/").data == Data("XY".utf8))
        #expect(await second.blobExists(container: "models", name: "gone") == false)

        // Nothing was written outside <state>/blobs/<container>.
        let top = try FileManager.default.contentsOfDirectory(atPath: state.path)
        #expect(top == ["blobs"])
        let blobsRoot = state.appendingPathComponent("blobs")
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobsRoot.path).sorted() == ["empty", "models"])

        try await second.deleteContainer("models")
        let third = try BlobStore(stateDirectory: state)
        #expect(await third.containerNames() == ["empty"])
    }

    @Test("container names follow Azure's rule; every write gets a new ETag")
    func namesAndETags() async throws {
        for valid in ["abc", "a-b-c", "0models", String(repeating: "a", count: 63)] {
            #expect(BlobStore.isValidContainerName(valid), "\(valid)")
        }
        for invalid in ["ab", "Abc", "a--b", "-ab", "ab-", "a_b", "a.b", "..", String(repeating: "a", count: 64)] {
            #expect(!BlobStore.isValidContainerName(invalid), "\(invalid)")
        }
        let store = BlobStore()
        let error = await #expect(throws: BlobError.self) { try await store.createContainer("Bad_Name") }
        #expect(error?.code == "InvalidResourceName")
        try await store.createContainer("etags")
        let one = try await store.putBlob(container: "etags", name: "b", data: Data("1".utf8))
        let two = try await store.putBlob(container: "etags", name: "b", data: Data("1".utf8))
        #expect(one.etag != two.etag)
        #expect(two.createdOn == one.createdOn)
    }
}
