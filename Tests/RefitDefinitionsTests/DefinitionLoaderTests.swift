import Foundation
import RefitCore
import RefitDefinitions
import Testing

@Suite("Definition loader")
struct DefinitionLoaderTests {
    static let storage = #"{"name": "Storage", "properties": {"type": "AzureStorage", "typeProperties": {"connectionString": "UseDevelopmentStorage=true"}}}"#

    @Test("a missing folder is one clear error")
    func missingFolder() throws {
        let folder = try TempFolder()
        let result = DefinitionLoader.load(directory: folder.path + "/nope")
        #expect(result.diagnostics.count == 1)
        #expect(result.errors.first?.message == "the schedules folder '\(folder.path)/nope' does not exist")
        #expect(result.factory == nil)
    }

    @Test("a folder without definition files is one clear error")
    func emptyFolder() throws {
        let folder = try TempFolder()
        try folder.write("README.md", "# not a definition")
        try folder.write(".hidden.json", "{")
        let result = folder.load()
        #expect(result.diagnostics.count == 1)
        #expect(result.errors.first?.message.contains("holds no definition files (*.json, *.yaml, *.yml)") == true)
    }

    @Test("reads json, yaml and yml recursively in sorted order, skipping hidden entries")
    func recursive() throws {
        let folder = try TempFolder()
        try folder.write("b/storage.json", Self.storage)
        try folder.write("a/ds.yml", "name: DS\nproperties:\n  type: FileShare\n  linkedServiceName: Files\n  typeProperties: {folderPath: in}\n  availability: {frequency: Hour, interval: 1}\n  external: true\n")
        try folder.write("files.yaml", "name: Files\nproperties:\n  type: OnPremisesFileServer\n  typeProperties: {host: /srv/data}\n")
        try folder.write(".git/config.json", "{ broken")
        try folder.write("notes.txt", "ignored")
        let result = DefinitionLoader.load(directory: folder.path + "/", environment: [:])
        #expect(!result.hasErrors, "\(result.report)")
        #expect(result.files == [folder.file("a/ds.yml"), folder.file("b/storage.json"), folder.file("files.yaml")])
        let ds = try #require(result.factory?.datasets["DS"])
        #expect(ds.kind == .fileShare)
        #expect(ds.availability == Availability(frequency: .hour, interval: 1))
        #expect(ds.position.file == folder.file("a/ds.yml"))
    }

    @Test("invalid UTF-8 is reported at the first bad byte")
    func invalidUTF8() throws {
        let folder = try TempFolder()
        var bytes = Array("{\n  \"name\": \"".utf8)
        bytes += [0xFF, 0xFE]
        try Data(bytes).write(to: URL(fileURLWithPath: folder.file("bad.json")))
        let result = folder.load()
        #expect(result.errors.map(\.position) == [SourcePosition(file: folder.file("bad.json"), line: 2, column: 12)])
        #expect(result.errors.first?.message == "the file is not valid UTF-8 text")
    }

    @Test("a file broken beyond repair still names its entity, so references to it add no noise")
    func brokenFileKeepsName() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", #"{"name": "Storage", "properties": {"type": "AzureStorage", "typeProperties": {"connectionString": "UseDev"#)
        try folder.write("ds.json", #"{"name": "DS", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "x"}, "availability": {"frequency": "Day", "interval": 1}}}"#)
        let result = folder.load()
        #expect(result.errors.count == 1, "\(result.report)")
        #expect(result.errors.first?.position.file == folder.file("storage.json"))
    }

    @Test("a onetime pipeline and one without start are accepted and have no active period")
    func noWindows() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", Self.storage)
        try folder.write("ds.json", #"{"name": "Out", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "x"}, "availability": {"frequency": "Day", "interval": 1}}}"#)
        try folder.write("ds2.json", #"{"name": "Out2", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "y"}, "availability": {"frequency": "Day", "interval": 1}}}"#)
        try folder.write("p1.json", #"{"name": "Once", "properties": {"pipelineMode": "onetime", "start": "2026-01-01", "activities": [{"name": "a", "type": "Command", "typeProperties": {"arguments": ["true"]}, "outputs": [{"name": "Out"}]}]}}"#)
        try folder.write("p2.json", #"{"name": "NoStart", "properties": {"activities": [{"name": "a", "type": "Command", "typeProperties": {"arguments": ["echo", "hi"]}, "outputs": [{"name": "Out2"}]}]}}"#)
        let result = folder.load()
        #expect(!result.hasErrors, "\(result.report)")
        let once = try #require(result.factory?.pipelines["Once"])
        #expect(once.pipelineMode == .onetime)
        #expect(once.activePeriod == nil)
        #expect(result.factory?.pipelines["NoStart"]?.activePeriod == nil)
        guard case .command(let command)? = result.factory?.pipelines["NoStart"]?.activities.first?.kind else {
            Issue.record("not a command"); return
        }
        #expect(command.arguments == ["echo", "hi"])
    }

    @Test("warnings do not fail validation: Minute interval below 15")
    func minuteWarning() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", Self.storage)
        try folder.write("ds.json", #"{"name": "Fast", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "x"}, "external": true, "availability": {"frequency": "Minute", "interval": 5}}}"#)
        let result = folder.load()
        #expect(!result.hasErrors)
        #expect(result.factory != nil)
        #expect(result.warnings.map(\.position) == [SourcePosition(file: folder.file("ds.json"), line: 1, column: 195)])
        #expect(result.warnings.first?.message.contains("below ADF's recommended minimum of 15 minutes") == true)
    }

    @Test("an activity that uses an unsupported dataset gets an error at the reference")
    func unsupportedReference() throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: ["adf-samples/verbatim/5.5-AzureSqlInput.json"])
        try folder.write("storage.json", Self.storage)
        try folder.write("out.json", #"{"name": "Out", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "x"}, "availability": {"frequency": "Hour", "interval": 1}}}"#)
        try folder.write("p.json", #"{"name": "P", "properties": {"activities": [{"name": "a", "type": "Command", "typeProperties": {"arguments": ["true"]}, "inputs": [{"name": "AzureSqlInput"}], "outputs": [{"name": "Out"}]}]}}"#)
        let result = folder.load()
        #expect(result.errors.map(\.position) == [SourcePosition(file: folder.file("p.json"), line: 1, column: 141)], "\(result.report)")
        #expect(result.errors.first?.message == "dataset 'AzureSqlInput' has type AzureSqlTable, which Refit cannot probe")
    }

    @Test("formats, dependency expressions, $$ values and expanded paths are checked where they are written")
    func timeAndExpressionChecks() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", Self.storage)
        // Line 1 only, so columns are offsets + 1 into the line.
        let badFormat = #"{"name": "DS", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "x/{P}", "partitionedBy": [{"name": "P", "value": {"type": "DateTime", "date": "SliceStart", "format": "yyyy'MM"}}]}, "external": true, "availability": {"frequency": "Day", "interval": 1}}}"#
        try folder.write("ds.json", badFormat)
        let escaping = #"{"name": "Up", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "x/{P}", "partitionedBy": [{"name": "P", "value": {"type": "DateTime", "date": "SliceStart", "format": "'..'"}}]}, "external": true, "availability": {"frequency": "Day", "interval": 1}}}"#
        try folder.write("up.json", escaping)
        try folder.write("out.json", #"{"name": "Out", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "y"}, "availability": {"frequency": "Day", "interval": 1}}}"#)
        let pipeline = #"{"name": "P", "properties": {"activities": [{"name": "a", "type": "Command", "typeProperties": {"arguments": ["true"]}, "inputs": [{"name": "Up", "startTime": "Date.AddDays(SliceStart, -1"}], "outputs": [{"name": "Out"}]}]}}"#
        try folder.write("p.json", pipeline)
        let result = folder.load()
        func column(of needle: String, in text: String, plus extra: Int = 0) -> Int {
            text.unicodeScalars.count - text[text.range(of: needle)!.lowerBound...].unicodeScalars.count + 1 + extra
        }
        let positions = result.errors.map { "\($0.position.file.split(separator: "/").last!):\($0.position.column)" }
        // The unclosed quote inside "yyyy'MM" (the 5th scalar of the value, after its opening quote).
        #expect(positions.contains("ds.json:\(column(of: "\"yyyy'MM\"", in: badFormat, plus: 5))"), "\(result.report)")
        // The escaping folderPath value.
        #expect(positions.contains("up.json:\(column(of: "\"x/{P}\"", in: escaping))"), "\(result.report)")
        // The unclosed call: the error points inside the expression string.
        #expect(result.errors.contains { $0.position.file.hasSuffix("p.json") && $0.message.hasPrefix("startTime of input 'Up':") }, "\(result.report)")
        #expect(result.errors.count == 3, "\(result.report)")
    }
}
