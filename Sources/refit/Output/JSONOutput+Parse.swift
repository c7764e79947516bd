import Foundation

extension JSONOutput {
    /// Stored JSON (metrics, fingerprints) as a value to embed in output; object keys sorted,
    /// since the stored text's order is not meaningful. nil when the text is not JSON.
    static func parse(_ text: String) -> JSONOutput? {
        (try? JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8)))?.value
    }

    /// Decodes any JSON document; booleans stay booleans, integers stay integers.
    private struct AnyJSON: Decodable {
        var value: JSONOutput

        init(from decoder: any Decoder) throws {
            if var array = try? decoder.unkeyedContainer() {
                var items: [JSONOutput] = []
                while !array.isAtEnd { items.append(try array.decode(AnyJSON.self).value) }
                value = .array(items)
                return
            }
            if let object = try? decoder.container(keyedBy: Key.self) {
                value = .object(try object.allKeys.sorted { $0.stringValue < $1.stringValue }.map {
                    ($0.stringValue, try object.decode(AnyJSON.self, forKey: $0).value)
                })
                return
            }
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { value = .null }
            else if let b = try? single.decode(Bool.self) { value = .bool(b) }
            else if let i = try? single.decode(Int64.self) { value = .int(i) }
            else if let d = try? single.decode(Double.self) { value = .double(d) }
            else { value = .string(try single.decode(String.self)) }
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }
}
