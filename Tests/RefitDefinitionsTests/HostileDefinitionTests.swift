import Foundation
import RefitCore
@testable import RefitDefinitions
import Testing

/// Inputs that once crashed, hung, were silently accepted or were wrongly rejected: each is one
/// located sentence now (or loads as it should).
@Suite("Hostile and odd definitions")
struct HostileDefinitionTests {
    static let storage = #"{"name": "Storage", "properties": {"type": "AzureStorage", "typeProperties": {"connectionString": "UseDevelopmentStorage=true"}}}"#

    /// A hang guard, not a speed figure (speed is `make bench`'s): the inputs here once hung or
    /// took exponential or quadratic time — hours — so finishing within two minutes, even in a
    /// debug build on a loaded machine, shows the bound holds.
    static let hangGuard: Double = 120

    /// Runs `body` and returns how long it took.
    static func timed<T>(_ body: () throws -> T) rethrows -> (T, seconds: Double) {
        let start = Date()
        let result = try body()
        return (result, Date().timeIntervalSince(start))
    }

    /// Runs `body`, failing if it runs into the hang guard.
    static func fast<T>(_ seconds: Double = hangGuard, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        let result = try body()
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < seconds, "took \(elapsed) s")
        return result
    }

    // MARK: Resource exhaustion

    @Test("a YAML billion-laughs bomb is refused at the alias that crosses the bound, quickly")
    func billionLaughs() throws {
        var yaml = "name: Bomb\nproperties:\n  type: AzureStorage\n  description: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "  x\(level): &a\(level) [\(refs)]\n"
        }
        let result = Self.fast { YAMLReader.read(yaml, file: "bomb.yaml") }
        #expect(result.root == nil)
        #expect(result.diagnostics.count == 1)
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.message.contains("expands the file past 10000 values taken through aliases"), "\(diagnostic)")
        // Aliases on lines 5 and 6 take 1,220 values; line 7's each take 1,111, so its eighth crosses 10,000.
        #expect(diagnostic.position.line == 7, "\(diagnostic)")
    }

    @Test("small aliases are allowed and expand to their anchor's values")
    func smallAliases() throws {
        let yaml = "name: A\nproperties:\n  a: &x {frequency: Hour, interval: 1}\n  b: *x\n"
        let result = YAMLReader.read(yaml, file: "a.yaml")
        #expect(result.diagnostics.isEmpty)
        #expect(result.root?["properties"]?["b"]?["frequency"]?.string == "Hour")
    }

    @Test("deep nesting is one located error in YAML (block and flow) and JSON, never a crash")
    func deepNesting() async throws {
        let flow = String(repeating: "[", count: 100_000)
        for (text, file) in [(flow, "deep.yaml"), (flow, "deep.json"),
                             (String(repeating: "{\"a\": ", count: 50_000), "deep2.json"),
                             ((0..<2_000).map { String(repeating: " ", count: $0) + "- " }.joined(separator: "\n"), "deep2.yaml")] {
            let (result, elapsed) = try await offPool { Self.timed { DefinitionLoader.parse(text, file: file) } }
            #expect(elapsed < Self.hangGuard, "\(file): \(elapsed) s")
            #expect(result.root == nil)
            let messages = result.diagnostics.map(\.description).joined(separator: "\n")
            #expect(result.diagnostics.contains { $0.message.contains("nested more than \(JSONReader.maximumDepth) levels deep") },
                    "\(file): \(messages)")
            #expect(!messages.contains("yaml_set_max_nest_level"), "\(messages)")
            #expect(!messages.contains("())"), "\(messages)")
        }
    }

    @Test("a file over the size limit is one clear error, not read")
    func oversizedFile() async throws {
        let folder = try TempFolder()
        try folder.write("storage.json", Self.storage)
        let big = "{\"name\": \"Big\", \"description\": \"" + String(repeating: "x", count: DefinitionLoader.maximumFileSize) + "\"}"
        try folder.write("big.json", big)
        let path = folder.path
        let (result, elapsed) = try await offPool { Self.timed { DefinitionLoader.load(directory: path, environment: [:]) } }
        #expect(elapsed < Self.hangGuard)
        #expect(result.errors.count == 1, "\(result.report)")
        let error = try #require(result.errors.first)
        #expect(error.position == SourcePosition(file: folder.file("big.json"), line: 1, column: 1))
        #expect(error.message.contains("over the 4 MiB limit for a definition file"), "\(error)")
    }

    @Test("a file of more values than any definition holds stops at the bound, in JSON and YAML")
    func tooManyValues() async throws {
        let array = "[" + Array(repeating: "1", count: JSONReader.maximumValues + 10).joined(separator: ",") + "]"
        for file in ["many.json", "many.yaml"] {
            let (result, elapsed) = try await offPool { Self.timed { DefinitionLoader.parse(array, file: file) } }
            #expect(elapsed < Self.hangGuard, "\(file): \(elapsed) s")
            #expect(result.root == nil)
            #expect(result.diagnostics.map(\.message) == ["the file holds more than 100000 values; a definition holds a few hundred"], "\(file)")
        }
    }

    @Test("thousands of problems in one file show the first hundred and a count of the rest")
    func cappedDiagnostics() throws {
        let folder = try TempFolder()
        let activities = Array(repeating: "{}", count: 300).joined(separator: ", ")
        try folder.write("p.json", #"{"name": "P", "properties": {"activities": ["# + activities + "]}}")
        let result = Self.fast { folder.load() }
        #expect(result.diagnostics.count == DefinitionLoader.maximumDiagnosticsPerFile + 1)
        #expect(result.diagnostics.last?.message == "200 more problems in this file are not shown")
        #expect(result.diagnostics.last?.severity == .error)
    }

    @Test("a megabyte-long unknown value gets its error without a quadratic did-you-mean")
    func longValues() async throws {
        let folder = try TempFolder()
        let long = String(repeating: "A", count: 1 << 20)
        try folder.write("a.json", #"{"name": "x", "properties": {"type": ""# + long + #""}}"#)
        let path = folder.path
        let (result, elapsed) = try await offPool { Self.timed { DefinitionLoader.load(directory: path, environment: [:]) } }
        #expect(elapsed < Self.hangGuard)
        #expect(result.errors.count == 1)
    }

    // MARK: Silently wrong acceptance

    @Test("a YAML custom tag is an error, so a variable's name never becomes a literal secret")
    func customTag() throws {
        let folder = try TempFolder()
        try folder.write("ml.yaml", "name: ML\nproperties:\n  type: AzureML\n  typeProperties:\n    mlEndpoint: https://ml.example/jobs\n    apiKey: !env ML_KEY\n")
        let result = folder.load()
        #expect(result.factory == nil)
        #expect(result.errors.count == 1, "\(result.report)")
        let error = try #require(result.errors.first)
        #expect(error.position == SourcePosition(file: folder.file("ml.yaml"), line: 6, column: 13))
        #expect(error.message == "YAML tag !env is not supported; write {env: NAME} to take the value from an environment variable")
        // The standard tags and the non-specific one still work.
        let standard = YAMLReader.read("a: !!str 10\nb: ! 11\nc: !!int 12\n", file: "s.yaml")
        #expect(standard.diagnostics.isEmpty)
        #expect(standard.root?["a"]?.string == "10")
        #expect(standard.root?["b"]?.string == "11")
        #expect(standard.root?["c"]?.numberText == "12")
    }

    @Test("an unclosed {Token in a path is an error at its brace")
    func unclosedToken() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", Self.storage)
        let text = #"{"name": "DS", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "data/{Year", "partitionedBy": [{"name": "Year", "value": {"type": "DateTime", "date": "SliceStart", "format": "yyyy"}}]}, "external": true, "availability": {"frequency": "Day", "interval": 1}}}"#
        try folder.write("ds.json", text)
        let result = folder.load()
        #expect(result.errors.count == 1, "\(result.report)")
        let error = try #require(result.errors.first)
        let brace = text.unicodeScalars.count - text[text.range(of: "{Year")!.lowerBound...].unicodeScalars.count + 1
        #expect(error.position == SourcePosition(file: folder.file("ds.json"), line: 1, column: brace))
        #expect(error.message == "unclosed '{' in folderPath: a {Token} needs its closing '}'")
    }

    @Test("a FIFO and a dangling link are errors naming the path and the reason")
    func unreadableEntries() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", Self.storage)
        #expect(mkfifo(folder.file("pipe.json"), 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: folder.file("gone.json"), withDestinationPath: "nowhere.json")
        try FileManager.default.createSymbolicLink(atPath: folder.file("pipelines"), withDestinationPath: "..data/pipelines")
        try FileManager.default.createSymbolicLink(atPath: folder.file("notes.txt"), withDestinationPath: "nowhere.txt")
        let result = Self.fast { folder.load() }
        let errors = result.errors.map { "\($0.position.file.split(separator: "/").last!): \($0.message)" }
        #expect(errors == [
            "gone.json: cannot read 'gone.json': it is a symbolic link to 'nowhere.json', which does not exist",
            "pipe.json: cannot read the file: it is a FIFO (named pipe), not a regular file",
            "pipelines: cannot read 'pipelines': it is a symbolic link to '..data/pipelines', which does not exist",
        ], "\(result.report)")
    }

    @Test("a secret file that is a FIFO or too large is refused with the reason, never read whole")
    func secretFileBounds() throws {
        let folder = try TempFolder()
        #expect(mkfifo(folder.file("pipe"), 0o600) == 0)
        try folder.write("big", String(repeating: "k", count: SecretResolver.maximumFileSize + 1))
        let resolver = SecretResolver(environment: [:], baseDirectory: folder.path)
        let pipe = #expect(throws: SecretError.self) { try Self.fast { try resolver.resolve(Secret(.file("pipe"))) } }
        #expect(pipe?.description == "the secret file pipe cannot be read: it is a FIFO (named pipe), not a regular file")
        let big = #expect(throws: SecretError.self) { try resolver.resolve(Secret(.file("big"))) }
        #expect(big?.description == "the secret file big cannot be read: it is larger than 64 KiB")
    }

    /// A file system whose reads of chosen paths fail as they do for a non-root user.
    struct DenyingFileSystem: DefinitionFileSystem {
        var denied: Set<String>
        let real = LocalFileSystem()
        func entry(atPath path: String) -> FileEntry { real.entry(atPath: path) }
        func contentsOfDirectory(atPath path: String) throws(FileReadError) -> [String] {
            if denied.contains(path) { throw .posix(EACCES) }
            return try real.contentsOfDirectory(atPath: path)
        }
        func contents(atPath path: String, limit: Int) throws(FileReadError) -> Data {
            if denied.contains(path) { throw .posix(EACCES) }
            return try real.contents(atPath: path, limit: limit)
        }
    }

    @Test("permission denied on a file or a folder is an error with that reason")
    func permissionDenied() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", Self.storage)
        try folder.write("secret/ds.json", "{}")
        let result = DefinitionLoader.load(directory: folder.path, environment: [:],
                                           fileSystem: DenyingFileSystem(denied: [folder.file("storage.json"), folder.file("secret")]))
        let errors = result.errors.map { "\($0.position): \($0.message)" }
        #expect(errors == [
            "\(folder.file("secret")):1:1: cannot read the folder: permission denied",
            "\(folder.file("storage.json")):1:1: cannot read the file: permission denied",
        ], "\(result.report)")
    }

    @Test("an unknown key is a warning with a hint; validation still succeeds")
    func unknownKeys() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", Self.storage)
        try folder.write("out.json", #"{"name": "Out", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "y"}, "availability": {"frequency": "Day", "interval": 1}}}"#)
        try folder.write("p.yaml", """
            name: P
            properties:
              activities:
              - name: a
                type: Command
                typeProperties: {arguments: ["true"]}
                outputs: [{name: Out}]
                policy:
                  retries: 3
                  timeout: 10:00:00
            """)
        let result = folder.load()
        #expect(!result.hasErrors, "\(result.report)")
        #expect(result.warnings.map { "\($0.position.line):\($0.position.column): \($0.message)" } == [
            "9:7: unknown key \"retries\" in policy is ignored; did you mean \"retry\"?",
        ], "\(result.report)")
        // YAML 1.2: an unquoted 10:00:00 is the string it looks like, not sexagesimal 36000.
        #expect(result.factory?.pipelines["P"]?.activities.first?.policy.timeout == TimeSpan.parse("10:00:00"))
    }

    @Test("the Microsoft samples use only keys ADF defines: no unknown-key warning", arguments: ADFSampleTests.loading)
    func samplesHaveNoUnknownKeys(_ sample: ADFSampleTests.Case) throws {
        let folder = try TempFolder()
        try folder.copy(fixtures: sample.files)
        let result = folder.load()
        #expect(!result.warnings.contains { $0.message.contains("unknown key") }, "\(result.report)")
    }

    @Test("a misspelt required key is one error, not also an unknown-key warning")
    func misspeltRequiredKey() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", Self.storage)
        try folder.write("ds.json", #"{"name": "DS", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "x"}, "availability": {"frequncy": "Day", "interval": 1}}}"#)
        let result = folder.load()
        #expect(result.diagnostics.count == 1, "\(result.report)")
        #expect(result.errors.first?.message.contains("did you mean \"frequency\" instead of \"frequncy\"?") == true, "\(result.report)")
    }

    @Test("the YAML 1.2 core schema types only what it defines")
    func coreSchema() {
        let resolved = ["10:00:00", "1:30", "yes", "on", "2026-01-01", "0x1F", "1e3", "-.5", ".inf", "~", "True", "1_000"]
            .map { CoreSchema.resolve($0) }
        #expect(resolved == [.string, .string, .string, .string, .string, .number, .number, .number, .number, .null, .bool(true), .string])
    }

    // MARK: Wrongly rejected

    @Test("identities accept {env} and {file}: accessKeyId, userId, servicePrincipalId, tenant")
    func identityReferences() throws {
        let folder = try TempFolder()
        try folder.write("aws.yaml", "name: S3\nproperties:\n  type: AwsAccessKey\n  typeProperties:\n    accessKeyId: {env: AWS_KEY_ID}\n    secretAccessKey: {env: AWS_SECRET}\n")
        try folder.write("files.json", #"{"name": "Files", "properties": {"type": "OnPremisesFileServer", "typeProperties": {"host": "/srv", "userId": {"file": "user.txt"}, "password": {"env": "FILES_PW"}}}}"#)
        try folder.write("user.txt", "alice\n")
        try folder.write("ml.json", #"{"name": "ML", "properties": {"type": "AzureML", "typeProperties": {"mlEndpoint": "https://ml.example/jobs", "apiKey": {"env": "K"}, "servicePrincipalId": {"env": "SP_ID"}, "tenant": {"env": "TENANT"}, "servicePrincipalKey": {"env": "SP_KEY"}}}}"#)
        let result = folder.load(environment: ["AWS_KEY_ID": "AKIA", "AWS_SECRET": "s", "FILES_PW": "p", "K": "k", "SP_ID": "i", "TENANT": "t", "SP_KEY": "x"])
        #expect(!result.hasErrors, "\(result.report)")
        #expect(result.warnings.isEmpty, "\(result.report)")
        guard case .awsAccessKey(let aws)? = result.factory?.linkedServices["S3"]?.kind,
              case .fileServer(let files)? = result.factory?.linkedServices["Files"]?.kind,
              case .azureML(let ml)? = result.factory?.linkedServices["ML"]?.kind else {
            Issue.record("linked services missing: \(result.report)"); return
        }
        #expect(aws.accessKeyId == Secret(.environment("AWS_KEY_ID")))
        #expect(files.userId == Secret(.file("user.txt")))
        #expect(ml.servicePrincipalId == Secret(.environment("SP_ID")))
        #expect(ml.tenant == Secret(.environment("TENANT")))
        // Inline identities are not warned about as literal secrets.
        let inline = try TempFolder()
        try inline.write("aws.json", #"{"name": "S3", "properties": {"type": "AwsAccessKey", "typeProperties": {"accessKeyId": "AKIA1", "secretAccessKey": {"env": "S"}}}}"#)
        let inlineResult = inline.load(environment: ["S": "s"])
        #expect(inlineResult.diagnostics.isEmpty, "\(inlineResult.report)")
    }

    @Test("a Kubernetes ConfigMap layout loads: linked folders are followed, hidden ones skipped, nothing read twice")
    func configMapLayout() throws {
        let folder = try TempFolder()
        try folder.write("..2024_01_01/pipelines/out.json", #"{"name": "Out", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage", "typeProperties": {"folderPath": "y"}, "availability": {"frequency": "Day", "interval": 1}}}"#)
        try folder.write("..2024_01_01/storage.json", Self.storage)
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: folder.file("..data"), withDestinationPath: "..2024_01_01")
        try fm.createSymbolicLink(atPath: folder.file("pipelines"), withDestinationPath: "..data/pipelines")
        try fm.createSymbolicLink(atPath: folder.file("storage.json"), withDestinationPath: "..data/storage.json")
        // The same folder twice, and a loop back to the top: each file is still read once.
        try fm.createSymbolicLink(atPath: folder.file("again"), withDestinationPath: "..data/pipelines")
        try fm.createSymbolicLink(atPath: folder.file("..2024_01_01/pipelines/loop"), withDestinationPath: "../..")
        let result = Self.fast { folder.load() }
        #expect(!result.hasErrors, "\(result.report)")
        #expect(result.files == [folder.file("again/out.json"), folder.file("storage.json")], "\(result.files)")
        #expect(result.factory?.datasets["Out"] != nil)
    }

    // MARK: Unhelpful messages

    @Test("an unclosed YAML quote is reported where the quote opens, not at the end of the file")
    func unclosedQuote() throws {
        let yaml = "name: DS\nproperties:\n  type: \"AzureBlob\n  linkedServiceName: Storage\n  typeProperties:\n    folderPath: x\n"
        let result = YAMLReader.read(yaml, file: "ds.yaml")
        #expect(result.diagnostics.map(\.description) == [
            "ds.yaml:3:9: error: YAML syntax error: this quoted string is never closed (the file ends first)",
        ])
    }

    @Test("no Foundation boilerplate in messages about unreadable input")
    func noBoilerplate() throws {
        let folder = try TempFolder()
        try folder.write("a.json", "{}")
        let result = DefinitionLoader.load(directory: folder.path, environment: [:],
                                           fileSystem: DenyingFileSystem(denied: [folder.file("a.json")]))
        #expect(!result.report.contains("could not be completed"), "\(result.report)")
        #expect(result.report.contains("permission denied"), "\(result.report)")
    }
}
