import Foundation
import RefitCore
import RefitDefinitions
import Testing

/// One malformed variant of a valid folder and the single error it must produce.
struct MalformedCase: CustomTestStringConvertible, Sendable {
    var name: String
    /// Files replacing or joining the base folder; one of them holds the marker ‸.
    var files: [String: String]
    var file: String
    var line: Int
    var column: Int
    /// A fragment of the expected message; `{dir}` stands for the folder.
    var message: String
    var testDescription: String { name }

    init(_ name: String, files: [String: String], file: String, line: Int, column: Int, message: String) {
        self.name = name; self.files = files; self.file = file; self.line = line; self.column = column; self.message = message
    }
}

@Suite("Malformed definitions")
struct MalformedDefinitionTests {
    static let marker: Unicode.Scalar = "‸"
    static let environment = ["STORAGE_CS": "UseDevelopmentStorage=true", "ML_KEY": "k"]

    /// Where the marker sits (1-based line and column in Unicode scalars) and the text without it.
    static func unmark(_ text: String) -> (line: Int, column: Int, text: String)? {
        var line = 1, column = 1
        var found: (Int, Int)?
        var clean = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s == marker && found == nil { found = (line, column); continue }
            clean.append(s)
            if s == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return found.map { ($0.0, $0.1, String(clean)) }
    }

    @Test("the base folder is valid and produces no diagnostics at all")
    func baseIsValid() throws {
        let folder = try TempFolder()
        for (name, text) in Self.baseFiles { try folder.write(name, text) }
        let result = folder.load(environment: Self.environment)
        #expect(result.diagnostics.isEmpty, "\(result.report)")
        #expect(result.factory?.pipelines["Retrain"]?.activities.count == 2)
    }

    @Test("reports the one error at its exact file, line and column", arguments: cases)
    func malformed(_ c: MalformedCase) throws {
        let folder = try TempFolder()
        var expected: (line: Int, column: Int)?
        for (name, text) in Self.baseFiles where c.files[name] == nil { try folder.write(name, text) }
        for (name, text) in c.files {
            if let (line, column, clean) = Self.unmark(text) {
                expected = (line, column)
                try folder.write(name, clean)
            } else {
                try folder.write(name, text)
            }
        }
        // The marker and the literal position agree, so the literal is what the text shows.
        #expect(expected?.line == c.line && expected?.column == c.column, "marker at \(String(describing: expected))")
        let result = folder.load(environment: Self.environment)
        #expect(result.errors.count == 1, "\(result.report)")
        let error = try #require(result.errors.first)
        #expect(error.position == SourcePosition(file: folder.file(c.file), line: c.line, column: c.column), "\(result.report)")
        let fragment = c.message.replacingOccurrences(of: "{dir}", with: folder.path)
        #expect(error.message.contains(fragment), "\(error.message)")
        #expect(result.factory == nil)
    }

    @Test("all problems are reported at once: five errors in four files give five diagnostics")
    func allAtOnce() throws {
        let folder = try TempFolder()
        for (name, text) in Self.baseFiles { try folder.write(name, text) }
        // Each ‸ marks one expected error.
        let files = [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "models/‸../x", "fileName": "model.ilearner"},
             "availability": {"frequency": ‸"Daily", "interval": 1}}}
            """#,
            "placeholder.json": #"""
            {"name": "Placeholder", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "placeholder"},
             "availability": {"frequency": "Day", "interval": ‸0}}}
            """#,
            "extra.json": #"""
            {"name": "Extra", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "extra"}, "availability": {"frequency": "Day", "interval": 1‸,}}}
            """#,
            "second.yaml": "name: Second\nproperties:\n  start: 2026-01-05\n  end: ‸2026-01-01\n  activities:\n    - name: a\n      type: Command\n      typeProperties: {arguments: [\"true\"]}\n      outputs: [{name: Extra}]\n",
        ]
        var expected: [SourcePosition] = []
        for (name, text) in files {
            var remaining = text
            var positions: [(Int, Int)] = []
            while let (line, column, clean) = Self.unmark(remaining) { positions.append((line, column)); remaining = clean }
            try folder.write(name, remaining)
            expected += positions.map { SourcePosition(file: folder.file(name), line: $0.0, column: $0.1) }
        }
        #expect(expected.count == 5)
        let result = folder.load(environment: Self.environment)
        #expect(result.errors.map(\.position) == expected.sorted(), "\(result.report)")
        #expect(result.errors.count == 5)
        #expect(result.diagnostics == result.diagnostics.sorted { ($0.position, $0.message) < ($1.position, $1.message) })
    }
}
