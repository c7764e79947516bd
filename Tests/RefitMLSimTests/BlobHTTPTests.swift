import Foundation
import Testing

@testable import RefitMLSim

@Suite("Blob HTTP")
struct BlobHTTPTests {
    private func expectAzureError(_ reply: BlobHTTPReply, _ status: Int, _ code: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, sourceLocation: sourceLocation)
        #expect(reply.header("x-ms-error-code") == code, sourceLocation: sourceLocation)
        if !reply.body.isEmpty {
            #expect(reply.text.hasPrefix("<?xml"), sourceLocation: sourceLocation)
            #expect(reply.text.contains("<Error><Code>\(code)</Code><Message>"), sourceLocation: sourceLocation)
        }
    }

    @Test("create container: 201, then 409 ContainerAlreadyExists; invalid names 400 InvalidResourceName")
    func createContainer() async throws {
        try await withBlobServer { service in
            let client = BlobTestClient(service)
            let created = try await client.send("PUT", "/models", query: "restype=container")
            #expect(created.status == 201)
            #expect(created.header("ETag")?.hasPrefix("\"0x") == true)
            #expect(created.header("x-ms-request-id")?.isEmpty == false)
            #expect(created.header("x-ms-version") == "2025-11-05")
            #expect(created.header("Date").flatMap(BlobDates.parseRFC1123) != nil)
            expectAzureError(try await client.send("PUT", "/models", query: "restype=container"),
                             409, "ContainerAlreadyExists")
            for name in ["UPPER", "ab", "a--b", "-ab", "a_b", "%2E%2E"] {
                expectAzureError(try await client.send("PUT", "/\(name)", query: "restype=container"),
                                 400, "InvalidResourceName")
            }
            let properties = try await client.send("HEAD", "/models", query: "restype=container")
            #expect(properties.status == 200)
            #expect(properties.header("ETag") == created.header("ETag"))
        }
    }

    @Test("put, get, head and delete a blob with Azure's headers")
    func blobLifecycle() async throws {
        try await withBlobServer { service in
            let client = BlobTestClient(service)
            _ = try await client.send("PUT", "/models", query: "restype=container")
            let content = Data("x,y\n1,2\n".utf8)
            let put = try await client.send("PUT", "/models/dir/sub/a%20b.csv",
                                            headers: ["x-ms-blob-type": "BlockBlob", "Content-Type": "text/csv",
                                                      "x-ms-meta-slice": "20160213"],
                                            body: content)
            #expect(put.status == 201)
            let etag = try #require(put.header("ETag"))
            #expect(etag.hasPrefix("\"0x") && etag.hasSuffix("\""))
            #expect(put.header("Last-Modified").flatMap(BlobDates.parseRFC1123) != nil)
            #expect(put.header("Content-MD5") == "NE/SMj3TPVwFi3zyfeAp6A==")  // base64(md5("x,y\n1,2\n"))

            let get = try await client.send("GET", "/models/dir/sub/a%20b.csv")
            #expect(get.status == 200)
            #expect(get.body == content)
            #expect(get.header("Content-Type") == "text/csv")
            #expect(get.header("ETag") == etag)
            #expect(get.header("x-ms-blob-type") == "BlockBlob")
            #expect(get.header("x-ms-meta-slice") == "20160213")
            #expect(get.header("Content-MD5") == put.header("Content-MD5"))

            let head = try await client.send("HEAD", "/models/dir/sub/a%20b.csv")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.header("Content-Length") == String(content.count))
            #expect(head.header("ETag") == etag)

            let range = try await client.send("GET", "/models/dir/sub/a%20b.csv", headers: ["x-ms-range": "bytes=2-4"])
            #expect(range.status == 206)
            #expect(range.text == "y\n1")
            #expect(range.header("Content-Range") == "bytes 2-4/8")
            expectAzureError(try await client.send("GET", "/models/dir/sub/a%20b.csv",
                                                   headers: ["x-ms-range": "bytes=8-"]), 416, "InvalidRange")

            // Create-only upload (If-None-Match: *) over an existing blob.
            expectAzureError(try await client.send("PUT", "/models/dir/sub/a%20b.csv",
                                                   headers: ["x-ms-blob-type": "BlockBlob", "If-None-Match": "*"],
                                                   body: Data("new".utf8)), 409, "BlobAlreadyExists")
            expectAzureError(try await client.send("GET", "/models/dir/sub/a%20b.csv",
                                                   headers: ["If-Match": "\"0x1\""]), 412, "ConditionNotMet")

            let deleted = try await client.send("DELETE", "/models/dir/sub/a%20b.csv")
            #expect(deleted.status == 202)
            expectAzureError(try await client.send("GET", "/models/dir/sub/a%20b.csv"), 404, "BlobNotFound")
            expectAzureError(try await client.send("HEAD", "/models/dir/sub/a%20b.csv"), 404, "BlobNotFound")
            expectAzureError(try await client.send("DELETE", "/models/dir/sub/a%20b.csv"), 404, "BlobNotFound")
        }
    }

    @Test("blob operations on a missing container get 404 ContainerNotFound; bad uploads 400")
    func missingContainer() async throws {
        try await withBlobServer { service in
            let client = BlobTestClient(service)
            expectAzureError(try await client.send("PUT", "/nothere/a.csv", headers: ["x-ms-blob-type": "BlockBlob"],
                                                   body: Data("a".utf8)), 404, "ContainerNotFound")
            expectAzureError(try await client.send("GET", "/nothere/a.csv"), 404, "ContainerNotFound")
            expectAzureError(try await client.send("GET", "/nothere", query: "restype=container&comp=list"),
                             404, "ContainerNotFound")
            _ = try await client.send("PUT", "/models", query: "restype=container")
            expectAzureError(try await client.send("PUT", "/models/a.csv", body: Data("a".utf8)),
                             400, "MissingRequiredHeader")
            expectAzureError(try await client.send("PUT", "/models/a.csv",
                                                   headers: ["x-ms-blob-type": "BlockBlob", "Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="],
                                                   body: Data("a".utf8)), 400, "Md5Mismatch")
            expectAzureError(try await client.send("PUT", "/models/a.csv", query: "comp=appendblock",
                                                   headers: ["x-ms-blob-type": "BlockBlob"], body: Data("a".utf8)),
                             501, "NotImplemented")
        }
    }

    @Test("list blobs: prefix, delimiter and NextMarker pagination in EnumerationResults XML")
    func listBlobs() async throws {
        try await withBlobServer { service in
            let client = BlobTestClient(service)
            _ = try await client.send("PUT", "/data", query: "restype=container")
            for name in ["in/2016/a.csv", "in/2016/b.csv", "in/c.csv", "out/m.ilearner", "in&<x>.csv"] {
                let path = "/data/" + BlobText.percentEncode(name, keeping: [UInt8(ascii: "/")])
                let put = try await client.send("PUT", path, headers: ["x-ms-blob-type": "BlockBlob"],
                                                body: Data(name.utf8))
                #expect(put.status == 201)
            }
            let listed = try await client.send("GET", "/data", query: "restype=container&comp=list&prefix=in%2F")
            #expect(listed.status == 200)
            #expect(listed.header("Content-Type") == "application/xml")
            #expect(listed.text.hasPrefix("<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "))
            #expect(listed.text.contains("ContainerName=\"data\""))
            #expect(names(in: listed.text) == ["in/2016/a.csv", "in/2016/b.csv", "in/c.csv"])
            #expect(listed.text.contains("<Content-Length>13</Content-Length>"))
            #expect(listed.text.contains("<BlobType>BlockBlob</BlobType>"))
            #expect(listed.text.contains("<Prefix>in/</Prefix>"))
            #expect(listed.text.contains("<NextMarker />"))

            let all = try await client.send("GET", "/data", query: "restype=container&comp=list")
            #expect(names(in: all.text) == ["in&<x>.csv", "in/2016/a.csv", "in/2016/b.csv", "in/c.csv",
                                            "out/m.ilearner"])
            #expect(all.text.contains("<Name>in&amp;&lt;x&gt;.csv</Name>"))

            var marker: String?
            var pages: [[String]] = []
            repeat {
                var query = "restype=container&comp=list&maxresults=2"
                if let marker { query += "&marker=" + BlobText.percentEncode(marker) }
                let page = try await client.send("GET", "/data", query: query)
                pages.append(names(in: page.text))
                marker = value(of: "NextMarker", in: page.text)
            } while marker != nil && pages.count < 10
            #expect(pages == [["in&<x>.csv", "in/2016/a.csv"], ["in/2016/b.csv", "in/c.csv"], ["out/m.ilearner"]])

            let folders = try await client.send("GET", "/data", query: "restype=container&comp=list&delimiter=%2F")
            #expect(folders.text.contains("<BlobPrefix><Name>in/</Name></BlobPrefix>"))
            #expect(folders.text.contains("<BlobPrefix><Name>out/</Name></BlobPrefix>"))

            let deleted = try await client.send("DELETE", "/data", query: "restype=container")
            #expect(deleted.status == 202)
            expectAzureError(try await client.send("GET", "/data", query: "restype=container&comp=list"),
                             404, "ContainerNotFound")
        }
    }

    @Test("missing, forged or expired credentials get 403 AuthenticationFailed; SAS grants only its scope")
    func authorization() async throws {
        try await withBlobServer { service in
            let client = BlobTestClient(service)
            _ = try await client.send("PUT", "/models", query: "restype=container")
            _ = try await client.send("PUT", "/models/m.csv", headers: ["x-ms-blob-type": "BlockBlob"],
                                      body: Data("model".utf8))

            expectAzureError(try await client.send("GET", "/models/m.csv", auth: .anonymous), 403,
                             "AuthenticationFailed")
            let forger = try StorageAccount(name: service.accountName)
            expectAzureError(try await client.send("GET", "/models/m.csv", auth: .sharedKey(forger)), 403,
                             "AuthenticationFailed")
            expectAzureError(try await client.send("PUT", "/models/evil.csv", headers: ["x-ms-blob-type": "BlockBlob"],
                                                   body: Data("x".utf8), auth: .sharedKey(forger)),
                             403, "AuthenticationFailed")
            expectAzureError(try await client.send("GET", "/models", query: "restype=container&comp=list",
                                                   auth: .sharedKey(forger)), 403, "AuthenticationFailed")
            expectAzureError(try await client.send("GET", "/models/m.csv",
                                                   headers: ["x-ms-date": BlobDates.rfc1123(Date().addingTimeInterval(-3600))]),
                             403, "AuthenticationFailed")
            #expect(await service.store.blobExists(container: "models", name: "evil.csv") == false)

            let token = service.readSASToken(container: "models", blob: "m.csv", validFor: .seconds(300))
            let read = try await client.send("GET", "/models/m.csv", auth: .sas(token))
            #expect(read.status == 200)
            #expect(read.text == "model")
            expectAzureError(try await client.send("DELETE", "/models/m.csv", auth: .sas(token)), 403,
                             "AuthorizationPermissionMismatch")
            expectAzureError(try await client.send("PUT", "/models/m.csv", headers: ["x-ms-blob-type": "BlockBlob"],
                                                   body: Data("x".utf8), auth: .sas(token)),
                             403, "AuthorizationPermissionMismatch")
            expectAzureError(try await client.send("GET", "/models/other.csv", auth: .sas(token)), 403,
                             "AuthenticationFailed")
            let expired = service.readSASToken(container: "models", blob: "m.csv", validFor: .seconds(-5))
            expectAzureError(try await client.send("GET", "/models/m.csv", auth: .sas(expired)), 403,
                             "AuthenticationFailed")
            let forgedToken = SASToken.sign(account: forger, container: "models", blob: "m.csv", permissions: "r",
                                            expiry: Date().addingTimeInterval(300))
            expectAzureError(try await client.send("GET", "/models/m.csv", auth: .sas(forgedToken)), 403,
                             "AuthenticationFailed")

            let writer = SASToken.sign(account: service.account, container: "models", blob: nil, permissions: "cwl",
                                       expiry: Date().addingTimeInterval(300))
            let upload = try await client.send("PUT", "/models/new.csv", headers: ["x-ms-blob-type": "BlockBlob"],
                                               body: Data("n".utf8), auth: .sas(writer))
            #expect(upload.status == 201)
            let listing = try await client.send("GET", "/models", query: "restype=container&comp=list",
                                                auth: .sas(writer))
            #expect(listing.status == 200)
            #expect(names(in: listing.text) == ["m.csv", "new.csv"])
        }
    }

    @Test("put block and put block list assemble a blob; list containers")
    func blocksAndContainers() async throws {
        try await withBlobServer { service in
            let client = BlobTestClient(service)
            _ = try await client.send("PUT", "/chunks", query: "restype=container")
            for (id, part) in [("MDE=", "hello "), ("MDI=", "world"), ("MDM=", "unused")] {
                let staged = try await client.send("PUT", "/chunks/b.txt",
                                                   query: "comp=block&blockid=" + BlobText.percentEncode(id),
                                                   body: Data(part.utf8))
                #expect(staged.status == 201)
            }
            #expect(await service.store.blobExists(container: "chunks", name: "b.txt") == false)
            let list = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>MDE=</Latest><Latest>MDI=</Latest></BlockList>"
            let committed = try await client.send("PUT", "/chunks/b.txt", query: "comp=blocklist",
                                                  headers: ["Content-Type": "application/xml",
                                                            "x-ms-blob-content-type": "text/plain"],
                                                  body: Data(list.utf8))
            #expect(committed.status == 201)
            let get = try await client.send("GET", "/chunks/b.txt")
            #expect(get.text == "hello world")
            #expect(get.header("Content-Type") == "text/plain")
            expectAzureError(try await client.send("PUT", "/chunks/b.txt", query: "comp=blocklist",
                                                   body: Data(list.utf8)), 400, "InvalidBlockList")

            _ = try await client.send("PUT", "/zeta", query: "restype=container")
            let containers = try await client.send("GET", "", query: "comp=list")
            #expect(containers.status == 200)
            #expect(containers.text.contains("<Container><Name>chunks</Name>"))
            #expect(containers.text.contains("<Container><Name>zeta</Name>"))
            let forger = try StorageAccount(name: service.accountName)
            expectAzureError(try await client.send("GET", "", query: "comp=list", auth: .sharedKey(forger)),
                             403, "AuthenticationFailed")
        }
    }

    @Test("the BlobAccess helpers read and write the blobs the HTTP side sees")
    func directAccess() async throws {
        try await withBlobServer { service in
            let client = BlobTestClient(service)
            #expect(service.blobEndpoint == "http://127.0.0.1:\(service.account.port)/\(service.accountName)")
            #expect(service.connectionString.contains("BlobEndpoint=\(service.blobEndpoint);"))
            #expect(try await service.read(container: "outputs", blob: "r.csv") == nil)
            try await service.write(container: "outputs", blob: "job1/r.csv", data: Data("1,2".utf8),
                                    contentType: "text/csv")
            let get = try await client.send("GET", "/outputs/job1/r.csv")
            #expect(get.text == "1,2")
            #expect(get.header("Content-Type") == "text/csv")
            _ = try await client.send("PUT", "/outputs/in.csv", headers: ["x-ms-blob-type": "BlockBlob"],
                                      body: Data("abc".utf8))
            #expect(try await service.read(container: "outputs", blob: "in.csv") == Data("abc".utf8))
        }
    }
}


/// The `<Name>` of every `<Blob>` in an EnumerationResults document, unescaped.
private func names(in xml: String) -> [String] {
    var result: [String] = []
    var rest = xml[...]
    while let start = rest.range(of: "<Blob><Name>"), let end = rest[start.upperBound...].range(of: "</Name>") {
        result.append(unescapeXML(String(rest[start.upperBound..<end.lowerBound])))
        rest = rest[end.upperBound...]
    }
    return result
}

private func value(of element: String, in xml: String) -> String? {
    guard let start = xml.range(of: "<\(element)>"),
          let end = xml[start.upperBound...].range(of: "</\(element)>") else { return nil }
    return unescapeXML(String(xml[start.upperBound..<end.lowerBound]))
}

private func unescapeXML(_ text: String) -> String {
    text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
        .replacingOccurrences(of: "&amp;", with: "&")
}
