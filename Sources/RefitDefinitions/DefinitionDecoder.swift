import RefitCore

/// Turns one definition document into a decoded entity, checking everything that can be checked
/// within the file (types, enums, ranges, TimeSpans, dates, names, paths, secrets). Checks that
/// need other files (references, schedules, cycles, duplicates) are `DefinitionValidator`'s.
///
/// Decoding is best effort: a bad value is reported and decoding goes on, so one run reports
/// every problem. Entities that cannot be built are returned as `.broken`, keeping their name.
struct DefinitionDecoder {
    var reader = FieldReader()
    var secrets: [SecretUse] = []
    var settings: [SettingUse] = []


    var diagnostics: [Diagnostic] { reader.diagnostics }
    var errorCount: Int { reader.diagnostics.filter { $0.severity == .error }.count }

    mutating func error(_ at: SourcePosition, _ message: String) { reader.error(at, message) }
    mutating func warning(_ at: SourcePosition, _ message: String) { reader.warning(at, message) }

    // MARK: Envelope

    mutating func decode(_ document: DefinitionDocument) -> DecodedEntity? {
        let root = document.root
        if document.isPartial { return Self.nameOnly(root) }
        guard root.members != nil else {
            let extra = root.elements != nil ? "; put each entity in a file of its own" : ""
            error(root.position, "a definition file holds one object {\"name\": …, \"properties\": {…}}, not \(root.kindDescription)\(extra)")
            return nil
        }
        let properties = root["properties"]
        // ADF v2 triggers (docs/SAMPLES.md §6) are recognised and ignored; some put "name" inside properties.
        if let properties, let typeNode = properties["type"], let type = typeNode.string,
           ADFVocabulary.triggerTypes.contains(type) {
            warning(typeNode.position, "ADF v2 \(type) definitions are not used by Refit (each activity's output dataset drives its schedule); this file is ignored")
            guard let nameNode = root["name"] ?? properties["name"], let name = nameNode.string else { return nil }
            return .unsupported(kind: .trigger, name: name, namePosition: nameNode.position, typeName: type)
        }
        let nameNode = reader.required(root, "name", in: "the definition")
        let name = nameNode.flatMap { reader.nonEmptyString($0, "name") }
        guard let propertiesNode = reader.required(root, "properties", in: "the definition"),
              reader.object(propertiesNode, "properties") != nil else { return nil }

        let kind: EntityKind
        var typeName: String?
        if let typeNode = propertiesNode["type"], propertiesNode["activities"] == nil {
            guard let type = reader.string(typeNode, "properties.type") else { return nil }
            typeName = type
            if ADFVocabulary.linkedServiceTypes.contains(type) {
                kind = .linkedService
            } else if ADFVocabulary.datasetTypes.contains(type) {
                kind = .dataset
            } else if ADFVocabulary.otherDatasetTypes.contains(type) && (propertiesNode["availability"] != nil
                        || !ADFVocabulary.otherLinkedServiceTypes.contains(type)) {
                warning(typeNode.position, "Refit cannot probe \(type) datasets (it probes AzureBlob, AmazonS3 and FileShare); this dataset is ignored and activities cannot use it")
                guard let name, let nameNode else { return nil }
                return .unsupported(kind: .dataset, name: name, namePosition: nameNode.position, typeName: type)
            } else if ADFVocabulary.otherLinkedServiceTypes.contains(type) {
                warning(typeNode.position, "Refit cannot use \(type) linked services (it uses \(ADFVocabulary.linkedServiceTypes.joined(separator: ", "))); this linked service is ignored")
                guard let name, let nameNode else { return nil }
                return .unsupported(kind: .linkedService, name: name, namePosition: nameNode.position, typeName: type)
            } else {
                let known = ADFVocabulary.linkedServiceTypes + ADFVocabulary.datasetTypes
                error(typeNode.position, "unknown type \"\(type)\"; Refit knows the linked service types \(ADFVocabulary.linkedServiceTypes.joined(separator: ", ")) and the dataset types \(ADFVocabulary.datasetTypes.joined(separator: ", "))"
                      + Suggestion.hint(for: type, among: known + ADFVocabulary.otherDatasetTypes + ADFVocabulary.otherLinkedServiceTypes))
                guard let name, let nameNode else { return nil }
                return .unknownKind(name: name, namePosition: nameNode.position)
            }
        } else if propertiesNode["activities"] != nil {
            kind = .pipeline
        } else {
            error(propertiesNode.position, "cannot tell what this file defines: properties has no \"type\" (linked service or dataset) and no \"activities\" (pipeline)")
            guard let name, let nameNode else { return nil }
            return .unknownKind(name: name, namePosition: nameNode.position)
        }
        guard let name, let nameNode else { return nil }
        checkEntityName(name, nameNode, kind)
        defer { reader.unknownKeys(root, in: "the definition", used: ADFKeys.envelope, ignored: ADFKeys.envelopeIgnored) }

        let errorsBefore = errorCount
        let entity: DecodedEntity?
        switch kind {
        case .linkedService:
            entity = decodeLinkedService(name: name, nameNode: nameNode, type: typeName ?? "", properties: propertiesNode,
                                         position: root.position).map { .linkedService($0) }
        case .dataset:
            entity = decodeDataset(name: name, nameNode: nameNode, type: typeName ?? "", properties: propertiesNode,
                                   position: root.position).map { .dataset($0) }
        case .pipeline:
            entity = decodePipeline(name: name, nameNode: nameNode, properties: propertiesNode,
                                    position: root.position).map { .pipeline($0) }
        case .trigger:
            entity = nil
        }
        if let entity, errorCount == errorsBefore { return entity }
        if case .pipeline = entity { return entity }  // best effort: its references are still checked
        return .broken(kind: kind, name: name, namePosition: nameNode.position)
    }

    /// The name and kind of a document cut short by a syntax error, without any diagnostics.
    static func nameOnly(_ root: Node) -> DecodedEntity? {
        guard let nameNode = root["name"], let name = nameNode.string, !name.isEmpty else { return nil }
        let properties = root["properties"]
        if properties?["activities"] != nil { return .broken(kind: .pipeline, name: name, namePosition: nameNode.position) }
        if let type = properties?["type"]?.string {
            if ADFVocabulary.linkedServiceTypes.contains(type) {
                return .broken(kind: .linkedService, name: name, namePosition: nameNode.position)
            }
            if ADFVocabulary.datasetTypes.contains(type) {
                return .broken(kind: .dataset, name: name, namePosition: nameNode.position)
            }
            if ADFVocabulary.triggerTypes.contains(type) { return nil }
        }
        return .unknownKind(name: name, namePosition: nameNode.position)
    }

    /// ADF's naming rules (docs/SEMANTICS.md §3.1): at most 260 characters, starting with a letter,
    /// digit or `_`, none of `. + ? / < > * % & : \`.
    mutating func checkEntityName(_ name: String, _ node: Node, _ kind: EntityKind) {
        let scalars = Array(name.unicodeScalars)
        if scalars.count > ADFVocabulary.maximumNameLength {
            error(node.position, "\(kind.rawValue) name is \(scalars.count) characters long; ADF allows at most \(ADFVocabulary.maximumNameLength)")
        }
        if let first = scalars.first, !(first == "_" || first.properties.isAlphabetic || ("0"..."9").contains(first)) {
            error(node.position(ofScalarOffset: 0), "\(kind.rawValue) name '\(name)' must start with a letter, a digit or '_'")
            return
        }
        if let i = scalars.firstIndex(where: { ADFVocabulary.forbiddenNameCharacters.contains(Character($0)) }) {
            error(node.position(ofScalarOffset: i), "\(kind.rawValue) name '\(name)' must not contain '\(Character(scalars[i]))'; ADF forbids . + ? / < > * % & : \\ in names")
        }
    }

    // MARK: References and secrets

    /// A reference: a name, or ADF v2's `{"referenceName": "...", "type": "<expectedType>"}`.
    mutating func reference(_ node: Node, _ what: String, expectedType: String) -> Reference? {
        if let s = node.string {
            guard !s.isEmpty else { error(node.position, "\(what) must not be empty"); return nil }
            return Reference(name: s, position: node.position)
        }
        if node.members != nil, let refNode = node["referenceName"] {
            if let typeNode = node["type"], let type = reader.string(typeNode, "\(what).type"), type != expectedType {
                error(typeNode.position, "\(what).type must be \"\(expectedType)\", not \"\(type)\"")
            }
            guard let s = reader.nonEmptyString(refNode, "\(what).referenceName") else { return nil }
            return Reference(name: s, position: refNode.position)
        }
        error(node.position, "\(what) must be a name or {\"referenceName\": \"…\", \"type\": \"\(expectedType)\"}, not \(node.kindDescription)")
        return nil
    }

    /// A secret: a literal string (warned about; never echoed), `{"env": "NAME"}` or
    /// `{"file": "PATH"}`. `isSensitive` tells whether a literal actually carries a secret
    /// (a connection string without AccountKey does not).
    mutating func secret(_ node: Node, field: String, owner: String,
                         isSensitive: (String) -> Bool = { _ in true }) -> Secret? {
        let label = "\(field) of \(owner)"
        switch node.value {
        case .string(let s):
            guard !s.isEmpty else { error(node.position, "\(field) must not be empty"); return nil }
            let secret = Secret(.literal(s))
            if isSensitive(s) {
                warning(node.position, "literal secret in \(field) of \(owner); prefer {\"env\": \"NAME\"} or {\"file\": \"PATH\"}")
            }
            secrets.append(SecretUse(secret: secret, position: node.position, label: label))
            return secret
        case .object(let members):
            if let type = node["type"]?.string {
                if type == "SecureString", let valueNode = node["value"], let value = valueNode.string, !value.isEmpty {
                    warning(valueNode.position, "literal secret in \(field) of \(owner); prefer {\"env\": \"NAME\"} or {\"file\": \"PATH\"}")
                    let secret = Secret(.literal(value))
                    secrets.append(SecretUse(secret: secret, position: valueNode.position, label: label))
                    return secret
                }
                if type == "AzureKeyVaultSecret" {
                    error(node.position, "\(field): Azure Key Vault references are not supported; use {\"env\": \"NAME\"} or {\"file\": \"PATH\"}")
                    return nil
                }
            }
            let env = node.member("env"), file = node.member("file")
            if env != nil && file != nil {
                error(file!.keyPosition, "\(field) must name either \"env\" or \"file\", not both")
                return nil
            }
            if let env {
                guard let name = reader.nonEmptyString(env.value, "\(field).env") else { return nil }
                guard Self.isEnvironmentName(name) else {
                    error(env.value.position, "\(field).env '\(name)' is not an environment variable name (letters, digits and '_', not starting with a digit)")
                    return nil
                }
                let secret = Secret(.environment(name))
                secrets.append(SecretUse(secret: secret, position: env.value.position, label: label))
                return secret
            }
            if let file {
                guard let path = reader.nonEmptyString(file.value, "\(field).file") else { return nil }
                let secret = Secret(.file(path))
                secrets.append(SecretUse(secret: secret, position: file.value.position, label: label))
                return secret
            }
            let keys = members.map(\.key)
            error(node.position, "\(field) must be a string or {\"env\": \"NAME\"} or {\"file\": \"PATH\"}"
                  + (keys.isEmpty ? "" : "; found keys \(keys.map { "\"\($0)\"" }.joined(separator: ", "))"))
            return nil
        default:
            error(node.position, "\(field) must be a string or {\"env\": \"NAME\"} or {\"file\": \"PATH\"}, not \(node.kindDescription)")
            return nil
        }
    }

    /// An identity (key id, user id, tenant): inline without a warning, or `{"env": "NAME"}` /
    /// `{"file": "PATH"}` like a secret, since deployments keep these out of files as well.
    mutating func identity(_ node: Node, field: String, owner: String) -> Secret? {
        secret(node, field: field, owner: owner, isSensitive: { _ in false })
    }

    static func isEnvironmentName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// `http://` or `https://` followed by something.
    static func isHTTPURL(_ s: String) -> Bool {
        let lower = s.lowercased()
        return (lower.hasPrefix("https://") && lower.count > 8) || (lower.hasPrefix("http://") && lower.count > 7)
    }

    /// An endpoint URL: a string, or `{"env": "NAME"}` (extension; checked when the variable is set).
    mutating func url(_ object: Node, _ key: String, _ what: String, required: Bool, owner: String) -> Setting? {
        let node = required ? reader.required(object, key, in: what) : object[key]
        guard let node, !node.isNull else { return nil }
        if let env = node.member("env"), node.members?.count == 1 {
            guard let name = reader.nonEmptyString(env.value, "\(key).env") else { return nil }
            guard Self.isEnvironmentName(name) else {
                error(env.value.position, "\(key).env '\(name)' is not an environment variable name (letters, digits and '_', not starting with a digit)")
                return nil
            }
            settings.append(SettingUse(name: name, position: env.value.position, label: "\(key) of \(owner)"))
            return Setting(.environment(name))
        }
        guard node.string != nil || node.members == nil else {
            error(node.position, "\(key) must be a URL string or {\"env\": \"NAME\"}")
            return nil
        }
        guard let s = reader.nonEmptyString(node, key) else { return nil }
        guard Self.isHTTPURL(s) else {
            error(node.position, "\(key) must be an http:// or https:// URL")
            return nil
        }
        return .literal(s)
    }
}
