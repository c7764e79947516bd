import Foundation
@testable import RefitActivities
import RefitCore
import Testing

@Suite struct BatchClientParsingTests {
    @Test(arguments: [
        ("https://h/workspaces/w/services/s/jobs", "https://h/workspaces/w/services/s/jobs"),
        ("https://h/workspaces/w/services/s/jobs?api-version=2.0", "https://h/workspaces/w/services/s/jobs"),
        ("https://h/workspaces/w/services/s/", "https://h/workspaces/w/services/s/jobs"),
        ("http://127.0.0.1:8/workspaces/w/services/s?x=1#f", "http://127.0.0.1:8/workspaces/w/services/s/jobs"),
    ])
    func normalizesEndpoint(input: String, expected: String) {
        #expect(AzureMLBatchClient.normalizedJobsURL(input) == expected)
    }

    @Test func rejectsNonHTTPEndpoints() {
        #expect(AzureMLBatchClient.normalizedJobsURL("ftp://h/jobs") == nil)
        #expect(AzureMLBatchClient.normalizedJobsURL("not a url") == nil)
    }

    @Test func parsesJobIDs() throws {
        #expect(try AzureMLBatchClient.parseJobID(Data("\"539d0bc2fde945b6ac986b851d0000f0\"".utf8)) == "539d0bc2fde945b6ac986b851d0000f0")
        #expect(try AzureMLBatchClient.parseJobID(Data("abc-1\n".utf8)) == "abc-1")
        // Letters and digits of any script, '-' and '_'; nothing else.
        #expect(try AzureMLBatchClient.parseJobID(Data("\"jöb_7-ΩΩ\"".utf8)) == "jöb_7-ΩΩ")
        for bad in ["", "{}", "\"\"", "[1]", "\"a/b\"", "{\"id\":1}", "\"a.b\"", "\"a b\"", "\"a~b\"", "\"a%b\""] {
            #expect(throws: ActivityError.self) { try AzureMLBatchClient.parseJobID(Data(bad.utf8)) }
        }
    }

    @Test func datasetPathPartsLoseOnlyTheirOuterSlashes() {
        #expect("//models/2026/".trimming(byte: UInt8(ascii: "/")) == "models/2026")
        #expect("modèles/été".trimming(byte: UInt8(ascii: "/")) == "modèles/été")
        #expect("/é/".trimming(byte: UInt8(ascii: "/")) == "é")
        #expect("///".trimming(byte: UInt8(ascii: "/")) == "")
        #expect("".trimming(byte: UInt8(ascii: "/")) == "")
        #expect("a//b".trimming(byte: UInt8(ascii: "/")) == "a//b")
    }

    @Test func jobIDsInURLsKeepOnlyLettersAndDigitsUnencoded() {
        #expect(AzureMLBatchClient.escape("539d0bc2fde945b6ac986b851d0000f0") == "539d0bc2fde945b6ac986b851d0000f0")
        #expect(AzureMLBatchClient.escape("a-b_c") == "a%2Db%5Fc")
        #expect(AzureMLBatchClient.escape("jöb") == "j%C3%B6b")
        #expect(AzureMLBatchClient.escape("a/b?c") == "a%2Fb%3Fc")
    }

    @Test func statusCodeByNameOrInteger() throws {
        let byName = try AzureMLBatchClient.parseStatus(Data("""
            {"StatusCode":"Finished","Results":{"output1":{"ConnectionString":null,"RelativeLocation":"c/m.ilearner",
            "BaseLocation":"http://x/","SasBlobToken":"?sig=1"}},"Details":null}
            """.utf8))
        #expect(byName.state == .finished)
        #expect(byName.results["output1"]?.sasURL == "http://x/c/m.ilearner?sig=1")
        for (code, state) in [(0, BatchJobState.notStarted), (1, .running), (2, .failed), (3, .cancelled), (4, .finished)] {
            #expect(try AzureMLBatchClient.parseStatus(Data("{\"StatusCode\":\(code),\"Results\":null}".utf8)).state == state)
        }
        let failed = try AzureMLBatchClient.parseStatus(Data("{\"StatusCode\":\"Failed\",\"Details\":\"Module: Reader; boom\"}".utf8))
        #expect(failed.state == .failed && failed.details == "Module: Reader; boom")
        #expect(try AzureMLBatchClient.parseStatus(Data("{\"Status Code\":\"running\"}".utf8)).state == .running)
        #expect(try AzureMLBatchClient.parseStatus(Data("{\"StatusCode\":\"CANCELED\"}".utf8)).state == .cancelled)
        #expect(try AzureMLBatchClient.parseStatus(Data("{\"StatusCode\":\"3\"}".utf8)).state == .cancelled)
        // Unknown fields are ignored; a non-text Details is dropped, not an error.
        let lenient = try AzureMLBatchClient.parseStatus(Data("""
            {"StatusCode":4,"Extra":[1,{"a":null}],"Details":{"x":1},"Results":{"o":{"RelativeLocation":"c/o.csv","Other":1,"BaseLocation":null}}}
            """.utf8))
        #expect(lenient.state == .finished && lenient.details == nil)
        #expect(lenient.results["o"] == BlobReference(relativeLocation: "c/o.csv"))
    }

    @Test func malformedStatusIsClassified() {
        for bad in ["", "not json", "[]", "{\"StatusCode\":7}", "{\"StatusCode\":\"Exploded\"}", "{\"StatusCode\":true}",
                    "{\"StatusCode\":\"Finished\",\"Results\":{\"o\":{\"BaseLocation\":\"x\"}}}", "{\"Results\":null}",
                    "{\"StatusCode\":\"Finished\",\"Results\":[]}", "{\"StatusCode\":\"Finished\",\"Results\":{\"o\":\"x\"}}",
                    "{\"StatusCode\":\"Finished\",\"Results\":{\"o\":{\"RelativeLocation\":5}}}", "{\"StatusCode\":4"] {
            do {
                _ = try AzureMLBatchClient.parseStatus(Data(bad.utf8))
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.code == .malformedResponse)
            }
        }
    }

    @Test func errorEnvelopeIsClassified() {
        let body = Data("""
            {"error":{"code":"InvalidOperation","message":"The request is invalid.","details":[{"code":"CannotStartJob","message":"The job cannot be started because it is in Running state."}]}}
            """.utf8)
        let error = ActivityError.from(status: 400, body: body, operation: "Starting batch job j")
        #expect(error.code == .badRequest && error.serviceCode == "CannotStartJob" && !error.isRetryable)
        #expect(error.message == "Starting batch job j failed with HTTP 400 InvalidOperation/CannotStartJob: The job cannot be started because it is in Running state.")
        #expect(ActivityError.from(status: 401, body: Data(), operation: "x").code == .unauthorized)
        #expect(ActivityError.from(status: 404, body: Data("<html>".utf8), operation: "x").code == .notFound)
        let busy = ActivityError.from(status: 503, body: Data(), operation: "x")
        #expect(busy.code == .serviceUnavailable && busy.isRetryable)
    }

    @Test func requestBodyShape() throws {
        let request = BatchExecutionRequest(
            inputs: ["input1": BlobReference(connectionString: "cs", relativeLocation: "c/in.csv")],
            outputs: ["output1": BlobReference(connectionString: "cs", relativeLocation: "c/m.ilearner")],
            globalParameters: ["p": "v"])
        let object = try #require(try JSONSerialization.jsonObject(with: request.encoded()) as? [String: Any])
        #expect(Set(object.keys) == ["Inputs", "Outputs", "GlobalParameters"])
        let input = try #require((object["Inputs"] as? [String: Any])?["input1"] as? [String: Any])
        #expect(input["ConnectionString"] as? String == "cs" && input["RelativeLocation"] as? String == "c/in.csv")
        // Keys sorted, absent reference fields left out.
        #expect(String(decoding: request.encoded(), as: UTF8.self) == """
            {"GlobalParameters":{"p":"v"},"Inputs":{"input1":{"ConnectionString":"cs","RelativeLocation":"c/in.csv"}},\
            "Outputs":{"output1":{"ConnectionString":"cs","RelativeLocation":"c/m.ilearner"}}}
            """)
        let patch = try #require(try JSONSerialization.jsonObject(with: AzureMLManagementClient.patchBody(
            resourceName: "M [trained model]",
            location: BlobReference(relativeLocation: "c/m.ilearner", baseLocation: "http://b/", sasBlobToken: "?s")))
            as? [String: Any])
        let resource = try #require((patch["Resources"] as? [[String: Any]])?.first)
        #expect(resource["Name"] as? String == "M [trained model]")
        #expect((resource["Location"] as? [String: String]) == ["BaseLocation": "http://b/", "RelativeLocation": "c/m.ilearner", "SasBlobToken": "?s"])
    }
}
