import Foundation
import Testing

@testable import RefitMLSim

/// A fixed key (bytes 0…63) so signatures can be checked against values computed independently
/// (Python's hmac/base64 and azure-storage-blob's own signing code).
private let fixedKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="

private func fixedAccount() throws -> StorageAccount {
    try StorageAccount(name: "refitstore", key: fixedKey, port: 10000)
}

private let requestDate = "Sat, 13 Feb 2016 00:00:00 GMT"
private let requestNow = Date(timeIntervalSince1970: 1_455_321_600)  // 2016-02-13T00:00:00Z

private func putRequest(authorization: String? = nil) -> BlobRequestHead {
    var headers: [(name: String, value: String)] = [
        ("Host", "127.0.0.1:10000"),
        ("x-ms-version", "2026-10-06"),
        ("Content-Type", "text/csv"),
        ("Content-Length", "11"),
        ("If-None-Match", "*"),
        ("x-ms-date", requestDate),
        ("X-MS-Blob-Type", "BlockBlob"),
        ("User-Agent", "test"),
    ]
    if let authorization { headers.append(("Authorization", authorization)) }
    return BlobRequestHead(method: "PUT", rawPath: "/refitstore/models/a%20b.csv", rawQuery: "timeout=30",
                           headers: headers)
}

@Suite("Blob Shared Key")
struct BlobSharedKeyTests {
    @Test("string to sign follows the documented layout, path-style resource as the SDK computes it")
    func stringToSign() throws {
        let text = SharedKeyAuthorizer.stringToSign(putRequest(), accountName: "refitstore",
                                                    canonicalPath: "/refitstore/models/a%20b.csv")
        let expected = "PUT\n\n\n11\n\ntext/csv\n\n\n\n*\n\n\n"
            + "x-ms-blob-type:BlockBlob\nx-ms-date:Sat, 13 Feb 2016 00:00:00 GMT\nx-ms-version:2026-10-06\n"
            + "/refitstore/refitstore/models/a%20b.csv\ntimeout:30"
        #expect(text == expected)
    }

    @Test("the signature equals an independently computed HMAC-SHA256")
    func signature() throws {
        let authorizer = SharedKeyAuthorizer(account: try fixedAccount())
        // base64(HMAC-SHA256(key, string above)), computed with Python's hmac module.
        #expect(authorizer.authorizationHeader(for: putRequest())
            == "SharedKey refitstore:U1JDwVMMkI5LAKPVnhuNcYAo2719EgQKmjafStNML8w=")
    }

    @Test("content length 0 signs as empty, query values are decoded and sorted by name")
    func canonicalization() {
        let request = BlobRequestHead(
            method: "GET", rawPath: "/refitstore/c", rawQuery: "restype=container&comp=list&prefix=a%2Fb&Include=metadata",
            headers: [("Content-Length", "0"), ("x-ms-date", requestDate)])
        let text = SharedKeyAuthorizer.stringToSign(request, accountName: "refitstore", canonicalPath: "/refitstore/c")
        #expect(text == "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:\(requestDate)\n/refitstore/refitstore/c"
            + "\ncomp:list\ninclude:metadata\nprefix:a/b\nrestype:container")
    }

    @Test("x-ms headers sort as the service does: hyphens ignored first")
    func headerOrder() {
        // azure-storage-blob's _storage_header_sort puts x-ms-ab before x-ms-a-c; ordinal order is the reverse.
        #expect(SharedKeyAuthorizer.serviceHeaderOrder("x-ms-ab", "x-ms-a-c"))
        #expect(!SharedKeyAuthorizer.serviceHeaderOrder("x-ms-a-c", "x-ms-ab"))
        let names = ["x-ms-version", "x-ms-meta-a_b", "x-ms-date", "x-ms-client-request-id", "x-ms-blob-type"]
        #expect(names.sorted(by: SharedKeyAuthorizer.serviceHeaderOrder)
            == ["x-ms-blob-type", "x-ms-client-request-id", "x-ms-date", "x-ms-meta-a_b", "x-ms-version"])
    }

    @Test("a correctly signed request is accepted, also with the host-style resource")
    func accepts() throws {
        let account = try fixedAccount()
        let authorizer = SharedKeyAuthorizer(account: account)
        let header = try #require(authorizer.authorizationHeader(for: putRequest()))
        try authorizer.authorize(putRequest(authorization: header), now: requestNow)

        let hostStyle = try #require(SharedKeyAuthorizer.stringToSign(putRequest(), accountName: "refitstore",
                                                                      canonicalPath: "/models/a%20b.csv"))
        try authorizer.authorize(putRequest(authorization: "SharedKey refitstore:\(account.sign(hostStyle))"),
                                 now: requestNow)
    }

    @Test("forged, tampered, stale, foreign and missing credentials get 403 AuthenticationFailed")
    func rejects() throws {
        let authorizer = SharedKeyAuthorizer(account: try fixedAccount())
        let forger = SharedKeyAuthorizer(account: try StorageAccount(name: "refitstore"))  // another random key
        let good = try #require(authorizer.authorizationHeader(for: putRequest()))
        let forged = try #require(forger.authorizationHeader(for: putRequest()))

        var tampered = putRequest(authorization: good)
        tampered.rawPath = "/refitstore/models/other.csv"
        let foreign = putRequest(authorization: good.replacingOccurrences(of: "refitstore:", with: "otherstore:"))
        let cases: [(BlobRequestHead, Date)] = [
            (putRequest(authorization: forged), requestNow),
            (tampered, requestNow),
            (putRequest(authorization: good), requestNow.addingTimeInterval(16 * 60)),
            (foreign, requestNow),
            (putRequest(), requestNow),
            (putRequest(authorization: "SharedKeyLite refitstore:abc"), requestNow),
        ]
        for (request, now) in cases {
            let error = #expect(throws: BlobError.self) { try authorizer.authorize(request, now: now) }
            #expect(error?.status == 403)
            #expect(error?.code == "AuthenticationFailed")
            #expect(error?.message.contains(fixedKey) == false)
        }
    }
}

@Suite("Blob SAS")
struct BlobSASTests {
    /// Minted by azure-storage-blob 12.x: generate_blob_sas("refitstore", "models", "a b.csv",
    /// account_key=fixedKey, permission="r", start="2016-02-13T00:00:00Z", expiry="2016-02-14T00:00:00Z",
    /// protocol="https,http").
    static let sdkToken = "st=2016-02-13T00%3A00%3A00Z&se=2016-02-14T00%3A00%3A00Z&sp=r&spr=https%2Chttp"
        + "&sv=2026-10-06&sr=b&sig=uDVljmKlLl9ZEa0ekSrr3au2D4qYrbK2MAUr8GWk6n4%3D"
    static let noon = Date(timeIntervalSince1970: 1_455_364_800)  // 2016-02-13T12:00:00Z

    @Test("the documented string to sign, as the SDK's sts_hook printed it")
    func stringToSign() throws {
        let sas = try #require(SASToken(query: Self.sdkToken))
        let text = SASToken.stringToSign(fields: sas.fields,
                                         canonicalizedResource: "/blob/refitstore/models/a b.csv")
        #expect(text == "r\n2016-02-13T00:00:00Z\n2016-02-14T00:00:00Z\n/blob/refitstore/models/a b.csv\n\n\n"
            + "https,http\n2026-10-06\nb\n\n\n\n\n\n\n")
    }

    @Test("a token minted by the Python SDK verifies for reading that blob")
    func sdkTokenVerifies() throws {
        let sas = try #require(SASToken(query: "?" + Self.sdkToken))
        try sas.verify(account: try fixedAccount(), container: "models", blob: "a b.csv", anyOf: [.read],
                       now: Self.noon)
    }

    /// An account SAS from the Python SDK's `generate_account_sas` (same fixed key), and its string to sign
    /// as `sts_hook` printed it.
    static let sdkAccountToken = "st=2016-02-13T00%3A00%3A00Z&se=2016-02-14T00%3A00%3A00Z&sp=rl&spr=https%2Chttp"
        + "&sv=2026-10-06&ss=b&srt=co&sig=P3GM%2Bvhc7VY66VVAb0lSbKPWOhcVVBOXOJRcf3H7dJE%3D"

    @Test("an account SAS from the Python SDK: documented string to sign, verifies within its ss/srt/sp only")
    func sdkAccountToken() throws {
        let account = try fixedAccount()
        let sas = try #require(SASToken(query: Self.sdkAccountToken))
        #expect(sas.isAccountSAS)
        #expect(SASToken.accountStringToSign(accountName: "refitstore", fields: sas.fields)
            == "refitstore\nrl\nb\nco\n2016-02-13T00:00:00Z\n2016-02-14T00:00:00Z\n\nhttps,http\n2026-10-06\n\n")
        try sas.verify(account: account, container: "models", blob: "a.csv", anyOf: [.read], now: Self.noon)
        try sas.verify(account: account, container: "models", blob: nil, anyOf: [.list], now: Self.noon)
        func code(_ body: () throws -> Void) -> String? {
            do { try body() } catch let error as BlobError { return error.code } catch { return "?" }
            return nil
        }
        #expect(code { try sas.verifyAccountSAS(account: account, resourceType: "s", anyOf: [.list], now: Self.noon) }
            == "AuthorizationResourceTypeMismatch")
        #expect(code { try sas.verify(account: account, container: "models", blob: "a.csv", anyOf: [.write], now: Self.noon) }
            == "AuthorizationPermissionMismatch")
        #expect(code { try sas.verify(account: account, container: "models", blob: "a.csv", anyOf: [.read],
                                      now: Self.noon.addingTimeInterval(86_400)) } == "AuthenticationFailed")
        let other = try StorageAccount(name: "refitstore")
        #expect(code { try sas.verify(account: other, container: "models", blob: "a.csv", anyOf: [.read], now: Self.noon) }
            == "AuthenticationFailed")
        // Before 2020-12-06 the string to sign has no encryption-scope line.
        var old = sas.fields
        old["sv"] = "2019-12-12"
        #expect(SASToken.accountStringToSign(accountName: "refitstore", fields: old)
            == "refitstore\nrl\nb\nco\n2016-02-13T00:00:00Z\n2016-02-14T00:00:00Z\n\nhttps,http\n2019-12-12\n")
        // Own account tokens round-trip.
        let own = try #require(SASToken(query: SASToken.signAccount(account: account, permissions: "rwdlac", resourceTypes: "sco",
                                                                    expiry: Self.noon.addingTimeInterval(60))))
        try own.verifyAccountSAS(account: account, resourceType: "s", anyOf: [.list], now: Self.noon)
    }

    @Test("own tokens round-trip and carry read-only blob scope")
    func roundTrip() throws {
        let account = try fixedAccount()
        let token = SASToken.sign(account: account, container: "models", blob: "dir/m.ilearner", permissions: "r",
                                  expiry: Self.noon.addingTimeInterval(3600))
        #expect(token.contains("sr=b") && token.contains("sp=r") && token.contains("sv=2020-12-06"))
        let sas = try #require(SASToken(query: token))
        try sas.verify(account: account, container: "models", blob: "dir/m.ilearner", anyOf: [.read], now: Self.noon)
    }

    @Test("expired, not yet valid, forged, wrong blob and wrong permission are refused")
    func refusals() throws {
        let account = try fixedAccount()
        func check(_ token: String, blob: String? = "m.csv", permission: SASPermission = .read,
                   now: Date = BlobSASTests.noon, code: String) throws {
            let sas = try #require(SASToken(query: token))
            let error = #expect(throws: BlobError.self) {
                try sas.verify(account: account, container: "models", blob: blob, anyOf: [permission], now: now)
            }
            #expect(error?.status == 403)
            #expect(error?.code == code)
        }
        let valid = SASToken.sign(account: account, container: "models", blob: "m.csv", permissions: "r",
                                  start: Self.noon.addingTimeInterval(-60), expiry: Self.noon.addingTimeInterval(60))
        try check(valid, now: Self.noon.addingTimeInterval(61), code: "AuthenticationFailed")  // expired
        try check(valid, now: Self.noon.addingTimeInterval(-61), code: "AuthenticationFailed")  // not yet valid
        try check(valid, blob: "other.csv", code: "AuthenticationFailed")  // another blob
        try check(valid, permission: .delete, code: "AuthorizationPermissionMismatch")
        try check(valid, blob: nil, permission: .list, code: "AuthorizationResourceTypeMismatch")
        try check(valid.replacingOccurrences(of: "sp=r", with: "sp=rwd"), permission: .delete,
                  code: "AuthenticationFailed")  // permissions widened after signing
        let forger = try StorageAccount(name: "refitstore")
        let forged = SASToken.sign(account: forger, container: "models", blob: "m.csv", permissions: "r",
                                   expiry: Self.noon.addingTimeInterval(60))
        try check(forged, code: "AuthenticationFailed")
        let httpsOnly = SASToken.sign(account: account, container: "models", blob: "m.csv", permissions: "r",
                                      expiry: Self.noon.addingTimeInterval(60), protocols: "https")
        try check(httpsOnly, code: "AuthorizationProtocolMismatch")
    }

    @Test("a container token covers every blob of its container and listing")
    func containerScope() throws {
        let account = try fixedAccount()
        let token = SASToken.sign(account: account, container: "models", blob: nil, permissions: "rl",
                                  expiry: Self.noon.addingTimeInterval(60))
        let sas = try #require(SASToken(query: token))
        try sas.verify(account: account, container: "models", blob: "any/blob.csv", anyOf: [.read], now: Self.noon)
        try sas.verify(account: account, container: "models", blob: nil, anyOf: [.list], now: Self.noon)
        #expect(throws: BlobError.self) {
            try sas.verify(account: account, container: "other", blob: "x", anyOf: [.read], now: Self.noon)
        }
    }

    @Test("the service's BlobAccess helpers mint and check read tokens")
    func serviceHelpers() throws {
        let service = BlobService(account: try fixedAccount(), store: BlobStore())
        let token = service.readSASToken(container: "models", blob: "m.csv", validFor: .seconds(60))
        #expect(token.hasPrefix("?sv="))
        #expect(service.isValidReadSAS(token, container: "models", blob: "m.csv"))
        #expect(!service.isValidReadSAS(token, container: "models", blob: "n.csv"))
        #expect(!service.isValidReadSAS(token.replacingOccurrences(of: "sp=r", with: "sp=w"),
                                        container: "models", blob: "m.csv"))
        let expired = service.readSASToken(container: "models", blob: "m.csv", validFor: .seconds(-1))
        #expect(!service.isValidReadSAS(expired, container: "models", blob: "m.csv"))
        #expect(!service.isValidReadSAS("?sv=2020-12-06&sr=b", container: "models", blob: "m.csv"))
    }
}

@Suite("Blob dates")
struct BlobDatesTests {
    @Test("RFC 1123 and ISO 8601 format and parse")
    func formats() {
        let date = Date(timeIntervalSince1970: 1_455_364_805)
        #expect(BlobDates.rfc1123(date) == "Sat, 13 Feb 2016 12:00:05 GMT")
        #expect(BlobDates.iso8601(date) == "2016-02-13T12:00:05Z")
        #expect(BlobDates.parseRFC1123("Sat, 13 Feb 2016 12:00:05 GMT") == date)
        #expect(BlobDates.parseISO8601("2016-02-13T12:00:05Z") == date)
        #expect(BlobDates.parseISO8601("2016-02-13T12:00:05.5000000Z") == date.addingTimeInterval(0.5))
        #expect(BlobDates.parseISO8601("2016-02-13T12:00Z") == date.addingTimeInterval(-5))
        #expect(BlobDates.parseISO8601("2016-02-13") == Date(timeIntervalSince1970: 1_455_321_600))
        #expect(BlobDates.parseISO8601("2016-02-30") == nil)
        #expect(BlobDates.parseISO8601("2016-02-13T12:00:05") == nil)
        #expect(BlobDates.parseRFC1123("13 Feb 2016") == nil)
        #expect(BlobDates.rfc1123(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }
}
