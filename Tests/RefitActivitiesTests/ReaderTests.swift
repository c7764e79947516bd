import Foundation
import RefitActivities
@testable import RefitStorage
import Testing

/// The small readers the activities rely on: List Blobs' XML and the evaluation `Metric,Value` CSV.
@Suite struct ReaderTests {
    @Test func listBlobsPageWithNextMarker() throws {
        let xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <EnumerationResults ServiceEndpoint="http://127.0.0.1:1/refitstore/" ContainerName="models">
              <Prefix>2024</Prefix><Marker /><MaxResults>2</MaxResults>
              <Blobs>
                <Blob><Name>20240305/model.ilearner</Name><Properties><Last-Modified>Tue, 05 Mar 2024 10:00:00 GMT</Last-Modified>
                  <Etag>"0x1"</Etag><Content-Length>812</Content-Length><Content-Type>application/octet-stream</Content-Type></Properties>
                  <Metadata><Name>not-the-blob-name</Name></Metadata></Blob>
                <Blob><Name>20240305/a &amp; b.csv</Name><Properties><Content-Length>64</Content-Length></Properties></Blob>
              </Blobs>
              <NextMarker>2!48!MDAwMDIy</NextMarker>
            </EnumerationResults>
            """
        let page = try #require(try BlobListParser.parse(Data(xml.utf8)))
        #expect(page.blobs == [
            BlobProperties(name: "20240305/model.ilearner", size: 812, etag: "\"0x1\"", lastModified: "Tue, 05 Mar 2024 10:00:00 GMT"),
            BlobProperties(name: "20240305/a & b.csv", size: 64),
        ])
        #expect(page.nextMarker == "2!48!MDAwMDIy")
    }

    @Test func lastPageHasNoMarker() throws {
        for tail in ["<NextMarker />", "<NextMarker></NextMarker>", ""] {
            let xml = "<EnumerationResults><Blobs><Blob><Name>x</Name></Blob></Blobs>\(tail)</EnumerationResults>"
            let page = try #require(try BlobListParser.parse(Data(xml.utf8)))
            #expect(page.blobs.map(\.name) == ["x"] && page.nextMarker == nil)
        }
        let empty = try #require(try BlobListParser.parse(Data("<EnumerationResults><Blobs /><NextMarker/></EnumerationResults>".utf8)))
        #expect(empty.blobs.isEmpty && empty.nextMarker == nil)
    }

    @Test func unreadableListingsAreRejected() throws {
        for bad in ["", "not xml", "<Error><Code>AuthenticationFailed</Code></Error>", "<EnumerationResults><Blobs>"] {
            #expect(try BlobListParser.parse(Data(bad.utf8)) == nil, "accepted \(bad)")
        }
    }

    @Test("the XML stream: entities and CDATA decoded, empty elements opened and closed, broken XML refused")
    func xmlStream() throws {
        var events: [XMLEvent] = []
        let xml = #"<?xml version="1.0" encoding="utf-8"?><r a="1"><k>a &amp; b&#233;<![CDATA[<c>]]></k><e/></r>"#
        #expect(try XMLStream.read(Data(xml.utf8)) { events.append($0) })
        #expect(events == [.start("r"), .start("k"), .text("a & bé"), .text("<c>"), .end("k"), .start("e"), .end("e"), .end("r")])
        // An external entity is never fetched or expanded.
        var texts: [String] = []
        _ = try XMLStream.read(Data(#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#.utf8)) { event in
            if case .text(let text) = event { texts.append(text) }
        }
        #expect(!texts.joined().contains("root:"))
        for bad in ["", "<r>", "<r></s>", "text", "<r>&undefined;</r>"] {
            #expect(try !XMLStream.read(Data(bad.utf8)) { _ in }, "accepted \(bad)")
        }
    }

    @Test func metricsFromTheEvaluationCSV() {
        let csv = "Metric,Value\r\nRMSE,0.0277\nMAE, 0.0235 \n\"R2\",\"0.99999\"\nRows,50\nNote,not a number\n,3\nlonely\n\n"
        #expect(BatchExecutionActivity.parseMetrics(csv) == ["RMSE": 0.0277, "MAE": 0.0235, "R2": 0.99999, "Rows": 50])
        #expect(BatchExecutionActivity.parseMetrics("").isEmpty)
        #expect(BatchExecutionActivity.parseMetrics("Metric,Value\nRMSE,1,extra\n") == ["RMSE": 1])
    }
}
