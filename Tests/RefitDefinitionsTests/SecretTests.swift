import Foundation
import RefitCore
import RefitDefinitions
import Testing

@Suite("Secrets")
struct SecretTests {
    static let literalKey = "s3cr3t-Lit3ral-Key+/=="
    static let accountKey = "QWNjb3VudEtleVZhbHVl"

    @Test("a literal secret's value appears in no diagnostic, even next to errors")
    func literalNeverShown() throws {
        let folder = try TempFolder()
        try folder.write("ml.json", #"""
        {"name": "ML", "properties": {"type": "AzureML", "typeProperties": {
         "mlEndpoint": "not a url", "apiKey": "\#(Self.literalKey)",
         "servicePrincipalKey": "\#(Self.literalKey)"}}}
        """#)
        try folder.write("storage.json", #"""
        {"name": "Storage", "properties": {"type": "AzureStorage", "typeProperties": {
         "connectionString": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=\#(Self.accountKey)"}}}
        """#)
        try folder.write("bad-storage.json", #"""
        {"name": "Bad", "properties": {"type": "AzureStorage", "typeProperties": {
         "connectionString": "\#(Self.accountKey)"}}}
        """#)
        try folder.write("sas.json", #"""
        {"name": "Sas", "properties": {"type": "AzureStorageSas", "typeProperties": {
         "sasUri": "ftp://x/?sig=\#(Self.accountKey)"}}}
        """#)
        let result = folder.load()
        #expect(result.hasErrors)
        let text = result.diagnostics.map(\.description).joined(separator: "\n")
        #expect(!text.contains(Self.literalKey))
        #expect(!text.contains(Self.accountKey))
        let warnings = result.warnings.map(\.message)
        #expect(warnings.contains { $0.hasPrefix("literal secret in apiKey of linked service 'ML'; prefer {\"env\": \"NAME\"}") })
        #expect(warnings.contains { $0.hasPrefix("literal secret in servicePrincipalKey of linked service 'ML'") })
        #expect(warnings.contains { $0.hasPrefix("literal secret in connectionString of linked service 'Storage'") })
        #expect(result.errors.contains { $0.position.file == folder.file("bad-storage.json") && $0.message.contains("not a storage connection string") })
        #expect(result.errors.contains { $0.position.file == folder.file("sas.json") && $0.message.contains("sasUri must be an https:// URL") })
        // The model's own description hides literals too.
        #expect(Secret(.literal(Self.literalKey)).description == "<literal secret>")
    }

    @Test("a connection string without a key is not a secret")
    func developmentStorage() throws {
        let folder = try TempFolder()
        try folder.write("storage.json", #"{"name": "Dev", "properties": {"type": "AzureStorage", "typeProperties": {"connectionString": "UseDevelopmentStorage=true"}}}"#)
        let result = folder.load()
        #expect(result.diagnostics.isEmpty, "\(result.report)")
    }

    @Test("env and file references parse; an unset variable is only a warning")
    func references() throws {
        let folder = try TempFolder()
        try folder.write("ml.json", #"""
        {"name": "ML", "properties": {"type": "AzureML", "typeProperties": {
         "mlEndpoint": "https://ml.example/jobs", "apiKey": {"env": "REFIT_UNSET_KEY"},
         "servicePrincipalKey": {"file": "secrets/sp.key"}}}}
        """#)
        try folder.write("aws.yaml", "name: S3\nproperties:\n  type: AwsAccessKey\n  typeProperties:\n    accessKeyId: AKIA1\n    secretAccessKey: {env: AWS_SECRET}\n    serviceUrl: http://127.0.0.1:9000\n")
        let result = folder.load(environment: ["AWS_SECRET": "x"])
        #expect(!result.hasErrors, "\(result.report)")
        let factory = try #require(result.factory)
        guard case .azureML(let ml)? = factory.linkedServices["ML"]?.kind else { Issue.record("ML missing"); return }
        #expect(ml.apiKey == Secret(.environment("REFIT_UNSET_KEY")))
        #expect(ml.servicePrincipalKey == Secret(.file("secrets/sp.key")))
        guard case .awsAccessKey(let aws)? = factory.linkedServices["S3"]?.kind else { Issue.record("S3 missing"); return }
        #expect(aws.secretAccessKey == Secret(.environment("AWS_SECRET")))
        #expect(aws.serviceUrl == .literal("http://127.0.0.1:9000"))
        let unset = try #require(result.warnings.first { $0.message.contains("REFIT_UNSET_KEY") })
        #expect(unset.position == SourcePosition(file: folder.file("ml.json"), line: 2, column: 61))
        #expect(unset.message.contains("is not set"))
        let missingFile = try #require(result.warnings.first { $0.message.contains("secrets/sp.key") })
        #expect(missingFile.position == SourcePosition(file: folder.file("ml.json"), line: 3, column: 34))
        #expect(result.warnings.count == 2, "\(result.report)")
    }

    @Test("malformed references are errors at the reference")
    func badReferences() throws {
        let folder = try TempFolder()
        try folder.write("ml.json", #"""
        {"name": "ML", "properties": {"type": "AzureML", "typeProperties": {
         "mlEndpoint": "https://ml.example/jobs", "apiKey": {"env": "1BAD-NAME"},
         "servicePrincipalKey": {"env": "A", "file": "b"}}}}
        """#)
        let result = folder.load()
        #expect(result.errors.map { [$0.position.line, $0.position.column] } == [[2, 61], [3, 38]], "\(result.report)")
    }

    @Test("the resolver reads env and files, and its errors name only the reference")
    func resolver() throws {
        let folder = try TempFolder()
        try folder.write("secrets/key.txt", "file-secret-value\n")
        try folder.write("secrets/empty.txt", "\n")
        let resolver = SecretResolver(environment: ["KEY": "env-secret-value", "EMPTY": ""], baseDirectory: folder.path)
        #expect(try resolver.resolve(Secret(.environment("KEY"))) == "env-secret-value")
        #expect(try resolver.resolve(Secret(.file("secrets/key.txt"))) == "file-secret-value")
        #expect(try resolver.resolve(Secret(.file(folder.path + "/secrets/key.txt"))) == "file-secret-value")
        #expect(try resolver.resolve(Secret(.literal("lit"))) == "lit")
        #expect(throws: SecretError(.environmentVariableUnset, reference: "MISSING")) { try resolver.resolve(Secret(.environment("MISSING"))) }
        #expect(throws: SecretError(.environmentVariableEmpty, reference: "EMPTY")) { try resolver.resolve(Secret(.environment("EMPTY"))) }
        #expect(throws: SecretError(.fileUnreadable, reference: "secrets/none.txt", reason: "no such file or directory")) {
            try resolver.resolve(Secret(.file("secrets/none.txt")))
        }
        #expect(throws: SecretError(.fileEmpty, reference: "secrets/empty.txt")) { try resolver.resolve(Secret(.file("secrets/empty.txt"))) }
        #expect(SecretError(.environmentVariableUnset, reference: "MISSING").description == "the secret's environment variable MISSING is not set")
    }
}
