import RefitHTTP
import Testing

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    @Test("lookup ignores case and keeps order of repeated fields")
    func lookup() {
        var headers: HTTPHeaders = ["Set-Cookie": "a=1", "Content-Type": "text/plain"]
        headers.add("set-cookie", "b=2")
        #expect(headers["content-type"] == "text/plain")
        #expect(headers.values(for: "SET-COOKIE") == ["a=1", "b=2"])
        #expect(headers.contains("Content-type"))
        #expect(headers["missing"] == nil)
    }

    @Test("set replaces every field of a name in place; nil removes")
    func setAndRemove() {
        var headers: HTTPHeaders = ["A": "1", "B": "2", "a": "3"]
        headers.set("a", "9")
        #expect(headers.fields.map(\.name) == ["A", "B"])
        #expect(headers.values(for: "a") == ["9"])
        headers["b"] = nil
        #expect(headers.count == 1)
        headers["C"] = "x"
        #expect(headers.fields.map(\.name) == ["A", "C"])
    }
}
