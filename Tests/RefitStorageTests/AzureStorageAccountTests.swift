import Foundation
import RefitHTTP
import RefitStorage
import RefitTestKit
import Testing

/// Runs a Python snippet and returns its stdout, trimmed: an independent implementation of
/// Azure's signing rules to check ours against.
func python(_ script: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let out = Pipe()
    process.standardOutput = out
    try launchProcess(process)
    let data = readToEnd(out.fileHandleForReading)
    ChildExit.wait(for: process, timeout: .seconds(60))
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

let testKey = Data("refit-test-key-0123456789".utf8).base64EncodedString()

@Suite struct AzureStorageAccountTests {
    @Test func parsesConnectionStrings() throws {
        let cloud = try AzureStorageAccount(connectionString:
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=\(testKey);EndpointSuffix=core.windows.net")
        #expect(cloud.name == "acct" && cloud.blobEndpoint == "https://acct.blob.core.windows.net")
        let local = try AzureStorageAccount(connectionString:
            "defaultendpointsprotocol=http;accountname=emu;accountkey=\(testKey);BlobEndpoint=http://127.0.0.1:9/emu/;")
        #expect(local.blobEndpoint == "http://127.0.0.1:9/emu")
        #expect(local.url(container: "c", blob: "a b/x.csv") == "http://127.0.0.1:9/emu/c/a%20b/x.csv")
        #expect(!"\(local)".contains(testKey))
    }

    @Test func rejectsBadConnectionStrings() {
        for bad in ["AccountName=a", "AccountKey=\(testKey)", "AccountName=a;AccountKey=***", "garbage",
                    "AccountName=a;AccountKey=\(testKey);BlobEndpoint=not a url"] {
            #expect(throws: StorageError.self) { try AzureStorageAccount(connectionString: bad) }
        }
        do {
            _ = try AzureStorageAccount(connectionString: "AccountName=a;AccountKey=sec!ret")
        } catch {
            #expect(!error.message.contains("sec!ret") && error.code == .configuration)
        }
    }

    @Test func sharedKeyMatchesAnIndependentImplementation() throws {
        let account = try AzureStorageAccount(name: "acct", key: testKey, blobEndpoint: "https://acct.blob.core.windows.net")
        var request = HTTPRequest(method: .put, url: "https://acct.blob.core.windows.net/cont/dir/a%20b.csv?comp=list&restype=container&Prefix=x",
                                  headers: ["x-ms-blob-type": "BlockBlob", "Content-Type": "text/csv"],
                                  body: Data("hello".utf8))
        try SharedKey.sign(&request, account: account, date: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(request.headers["x-ms-date"] == "Tue, 14 Nov 2023 22:13:20 GMT")
        let expected = try python("""
            import hmac, hashlib, base64
            sts = "\\n".join(["PUT", "", "", "5", "", "text/csv", "", "", "", "", "", "",
              "x-ms-blob-type:BlockBlob", "x-ms-date:Tue, 14 Nov 2023 22:13:20 GMT", "x-ms-version:2021-08-06",
              "/acct/cont/dir/a%20b.csv\\ncomp:list\\nprefix:x\\nrestype:container"])
            key = base64.b64decode("\(testKey)")
            print("SharedKey acct:" + base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode())
            """)
        #expect(request.headers["Authorization"] == expected)
    }

    @Test func blobSASMatchesAnIndependentImplementation() throws {
        let account = try AzureStorageAccount(name: "acct", key: testKey, blobEndpoint: "http://127.0.0.1:1/acct")
        let token = BlobSAS.blobToken(account: account, container: "models", blob: "p/w/model.ilearner",
                                      expiry: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(token.hasPrefix("?sv=2020-12-06&se=2023-11-14T22%3A13%3A20Z&sr=b&sp=r&spr=https%2Chttp&sig="))
        let sig = try #require(URLComponents(string: "http://x/\(token)")?.queryItems?.first { $0.name == "sig" }?.value)
        let expected = try python("""
            import hmac, hashlib, base64
            sts = "\\n".join(["r", "", "2023-11-14T22:13:20Z", "/blob/acct/models/p/w/model.ilearner", "", "",
              "https,http", "2020-12-06", "b", "", "", "", "", "", "", ""])
            key = base64.b64decode("\(testKey)")
            print(base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode())
            """)
        #expect(sig == expected)
    }
}
