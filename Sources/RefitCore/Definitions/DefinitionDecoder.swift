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
        // ADF v2 triggers (ADF-SAMPLES §6) are recognised and ignored; some put "name" inside properties.
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

    /// ADF's naming rules (ADF-SEMANTICS §3.1): at most 260 characters, starting with a letter,
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

    // MARK: Linked services

    mutating func decodeLinkedService(name: String, nameNode: Node, type: String, properties: Node,
                                      position: SourcePosition) -> DecodedLinkedService? {
        let owner = "linked service '\(name)'"
        defer { reader.unknownKeys(properties, in: "properties of \(owner)", used: ADFKeys.linkedService, ignored: ADFKeys.linkedServiceIgnored) }
        guard let tp = reader.required(properties, "typeProperties", in: "properties of \(owner)"),
              reader.object(tp, "typeProperties") != nil else { return nil }
        defer {
            reader.unknownKeys(tp, in: "typeProperties of \(owner)", used: ADFKeys.linkedServiceTypeProperties[type] ?? [],
                               ignored: ADFKeys.linkedServiceTypePropertiesIgnored)
        }
        let kind: LinkedService.Kind
        switch type {
        case "AzureML":
            let endpoint = url(tp, "mlEndpoint", "typeProperties of \(owner)", required: true, owner: owner)
            let key = reader.required(tp, "apiKey", in: "typeProperties of \(owner)").flatMap { secret($0, field: "apiKey", owner: owner) }
            let update = url(tp, "updateResourceEndpoint", "typeProperties of \(owner)", required: false, owner: owner)
            let principalId = tp["servicePrincipalId"].flatMap { $0.isNull ? nil : identity($0, field: "servicePrincipalId", owner: owner) }
            let principalKey = tp["servicePrincipalKey"].flatMap { $0.isNull ? nil : secret($0, field: "servicePrincipalKey", owner: owner) }
            let tenant = tp["tenant"].flatMap { $0.isNull ? nil : identity($0, field: "tenant", owner: owner) }
            guard let endpoint, let key else { return nil }
            kind = .azureML(.init(mlEndpoint: endpoint, apiKey: key, updateResourceEndpoint: update,
                                  servicePrincipalId: principalId, servicePrincipalKey: principalKey, tenant: tenant))
        case "AzureStorage", "AzureStorageSas":
            let connection = tp.member("connectionString"), sas = tp.member("sasUri")
            if connection == nil && sas == nil {
                let wanted = type == "AzureStorageSas" ? "sasUri" : "connectionString"
                _ = reader.required(tp, wanted, in: "typeProperties of \(owner)")
                return nil
            }
            if connection != nil, let sas {
                error(sas.keyPosition, "give either connectionString or sasUri, not both")
                return nil
            }
            var storage = LinkedService.AzureStorage()
            if let connection {
                if let text = connection.value.string, !Self.isConnectionString(text) {
                    error(connection.value.position, "connectionString is not a storage connection string (Key=Value pairs separated by ';' with an AccountName, e.g. DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…)")
                    return nil
                }
                guard let s = secret(connection.value, field: "connectionString", owner: owner,
                                     isSensitive: Self.connectionStringHoldsSecret) else { return nil }
                storage.connectionString = s
            }
            if let sas {
                if let text = sas.value.string, !Self.isHTTPURL(text) {
                    error(sas.value.position, "sasUri must be an https:// URL with a SAS token")
                    return nil
                }
                guard let s = secret(sas.value, field: "sasUri", owner: owner) else { return nil }
                storage.sasUri = s
            }
            kind = .azureStorage(storage)
        case "AwsAccessKey":
            let keyId = reader.required(tp, "accessKeyId", in: "typeProperties of \(owner)").flatMap { identity($0, field: "accessKeyId", owner: owner) }
            let key = reader.required(tp, "secretAccessKey", in: "typeProperties of \(owner)").flatMap { secret($0, field: "secretAccessKey", owner: owner) }
            let serviceUrl = url(tp, "serviceUrl", "typeProperties of \(owner)", required: false, owner: owner)
            let region = reader.optionalString(tp, "region", "region")
            guard let keyId, let key else { return nil }
            kind = .awsAccessKey(.init(accessKeyId: keyId, secretAccessKey: key, serviceUrl: serviceUrl, region: region))
        case "OnPremisesFileServer":
            let host = reader.required(tp, "host", in: "typeProperties of \(owner)").flatMap { reader.nonEmptyString($0, "host") }
            let user = tp["userId"].flatMap { $0.isNull ? nil : identity($0, field: "userId", owner: owner) }
            let password = tp["password"].flatMap { $0.isNull ? nil : secret($0, field: "password", owner: owner) }
            guard let host else { return nil }
            kind = .fileServer(.init(host: host, userId: user, password: password))
        default:
            return nil
        }
        return DecodedLinkedService(service: LinkedService(name: name, typeName: type, kind: kind, position: position),
                                    namePosition: nameNode.position)
    }

    static func connectionStringPairs(_ s: String) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        for part in s.split(separator: ";", omittingEmptySubsequences: true) {
            let trimmed = Substring(String(part).trimmingCharacters())
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: "="), eq != trimmed.startIndex else { return nil }
            pairs.append((String(trimmed[..<eq]).lowercased(), String(trimmed[trimmed.index(after: eq)...])))
        }
        return pairs
    }

    static func isConnectionString(_ s: String) -> Bool {
        guard let pairs = connectionStringPairs(s), !pairs.isEmpty else { return false }
        let keys = Set(pairs.map(\.0))
        return keys.contains("accountname") || keys.contains("blobendpoint") || keys.contains("usedevelopmentstorage")
    }

    /// A connection string is secret when it carries an account key or a SAS token.
    static func connectionStringHoldsSecret(_ s: String) -> Bool {
        guard let pairs = connectionStringPairs(s) else { return true }
        return pairs.contains { $0.0 == "accountkey" || $0.0 == "sharedaccesssignature" }
    }

    // MARK: Datasets

    mutating func decodeDataset(name: String, nameNode: Node, type: String, properties: Node,
                                position: SourcePosition) -> DecodedDataset? {
        let owner = "dataset '\(name)'"
        let kind = Dataset.Kind(rawValue: type)
        defer { reader.unknownKeys(properties, in: "properties of \(owner)", used: ADFKeys.dataset, ignored: ADFKeys.datasetIgnored) }
        let linkedService = reader.required(properties, "linkedServiceName", in: "properties of \(owner)")
            .flatMap { reference($0, "linkedServiceName", expectedType: "LinkedServiceReference") }
        var location = Dataset.Location()
        if let tp = reader.required(properties, "typeProperties", in: "properties of \(owner)"),
           reader.object(tp, "typeProperties") != nil {
            location = decodeLocation(tp, kind: kind, owner: owner)
            reader.unknownKeys(tp, in: "typeProperties of \(owner)", used: ADFKeys.datasetTypeProperties[type] ?? [],
                               ignored: ADFKeys.datasetTypePropertiesIgnored)
        }
        var availability: DecodedAvailability?
        var waitOnExternal: Node?
        if let node = reader.required(properties, "availability", in: "properties of \(owner)") {
            availability = decodeAvailability(node, "availability")
            waitOnExternal = node["waitOnExternal"]
        }
        var external: Bool?
        var externalPosition: SourcePosition?
        if let node = properties["external"] {
            external = reader.bool(node, "external")
            externalPosition = node.position
        }
        var externalData: Dataset.ExternalDataPolicy?
        var externalDataMember: Node.Member?
        var validation: Dataset.ValidationPolicy?
        if let policy = properties["policy"], reader.object(policy, "policy") != nil {
            defer { reader.unknownKeys(policy, in: "policy of \(owner)", used: ADFKeys.datasetPolicy) }
            if let member = policy.member("externalData") {
                externalDataMember = member
                externalData = decodeExternalData(member.value, "policy.externalData")
            }
            if let node = policy["validation"] {
                validation = decodeValidation(node)
            }
        }
        if let legacy = waitOnExternal {
            warning(legacy.position, "availability.waitOnExternal is ADF's pre-2015 form; write \"external\": true and policy.externalData instead")
            if externalData == nil { externalData = decodeExternalData(legacy, "availability.waitOnExternal") }
            if external == nil { external = true }
        }
        if let member = externalDataMember {
            switch external {
            case nil:
                // ADF-SAMPLES §1.2 (UR1) has externalData without "external": true; a doc slip.
                warning(member.keyPosition, "\(owner) has policy.externalData but no \"external\": true; Refit treats it as external")
                external = true
            case false?:
                warning(externalPosition ?? member.keyPosition, "policy.externalData is ignored because \(owner) has \"external\": false")
                externalData = nil
            case true?:
                break
            }
        }
        if external == true && externalData == nil { externalData = Dataset.ExternalDataPolicy() }
        guard let kind, let linkedService, let availability else { return nil }
        let dataset = Dataset(name: name, kind: kind, linkedServiceName: linkedService.name, location: location,
                              availability: availability.availability, external: external ?? false,
                              externalData: external == true ? externalData : nil, validation: validation, position: position)
        if let message = DefinitionDecoder.expandedPathProblem(dataset) {
            error(properties["typeProperties"]?["folderPath"]?.position ?? position, message)
        }
        return DecodedDataset(dataset: dataset, namePosition: nameNode.position, linkedService: linkedService,
                              availability: availability)
    }

    mutating func decodeLocation(_ tp: Node, kind: Dataset.Kind?, owner: String) -> Dataset.Location {
        var location = Dataset.Location()
        var tokenNames: Set<String> = []
        var tokenOrder: [String] = []
        if let node = tp["partitionedBy"], !node.isNull {
            if let entries = node.elements {
                for entry in entries {
                    let (token, name) = decodePartitionToken(entry)
                    guard let name else { continue }
                    if tokenNames.contains(name.name) {
                        error(name.position, "partitionedBy names '\(name.name)' twice")
                        continue
                    }
                    tokenNames.insert(name.name)
                    tokenOrder.append(name.name)
                    if let token { location.partitionedBy.append(token) }
                }
            } else {
                error(node.position, "partitionedBy must be an array, not \(node.kindDescription)")
            }
        }
        func path(_ key: String, required: Bool) -> String? {
            let node = required ? reader.required(tp, key, in: "typeProperties of \(owner)") : tp[key]
            guard let node, !node.isNull, let text = reader.string(node, key) else { return nil }
            checkPath(text, node, field: key, tokens: tokenNames, tokenOrder: tokenOrder)
            return text
        }
        switch kind {
        case .azureBlob?, .fileShare?:
            location.folderPath = path("folderPath", required: true)
            location.fileName = path("fileName", required: false)
        case .amazonS3?:
            location.bucketName = reader.required(tp, "bucketName", in: "typeProperties of \(owner)").flatMap { reader.nonEmptyString($0, "bucketName") }
            location.key = path("key", required: false)
            // ADF v1 calls the key prefix `prefix`; `folderPath` is accepted as its synonym.
            location.folderPath = path("prefix", required: false) ?? path("folderPath", required: false)
            location.fileName = path("fileName", required: false)
        case nil:
            break
        }
        location.readyMarker = path("readyMarker", required: false)
        return location
    }

    /// A partitionedBy entry; the name comes back even when the value is bad, so the path
    /// check does not add a second error for the same token.
    mutating func decodePartitionToken(_ entry: Node) -> (token: PartitionToken?, name: Reference?) {
        guard reader.object(entry, "a partitionedBy entry") != nil else { return (nil, nil) }
        let nameNode = reader.required(entry, "name", in: "the partitionedBy entry")
        let name = nameNode.flatMap { reader.nonEmptyString($0, "partitionedBy name") }
        let nameRef = name.flatMap { n in nameNode.map { Reference(name: n, position: $0.position) } }
        defer { reader.unknownKeys(entry, in: "the partitionedBy entry", used: ADFKeys.partition) }
        guard let valueNode = reader.required(entry, "value", in: "the partitionedBy entry"),
              reader.object(valueNode, "partitionedBy value") != nil else { return (nil, nameRef) }
        defer { reader.unknownKeys(valueNode, in: "the partitionedBy value", used: ADFKeys.partitionValue) }
        if let typeNode = reader.required(valueNode, "type", in: "the partitionedBy value"),
           let type = reader.string(typeNode, "partitionedBy value type"), type != "DateTime" {
            error(typeNode.position, "partitionedBy value type \"\(type)\" is not supported; Refit supports \"DateTime\"")
        }
        var date: PartitionToken.DateSource?
        if let dateNode = reader.required(valueNode, "date", in: "the partitionedBy value"),
           let text = reader.string(dateNode, "partitionedBy date") {
            if let d = PartitionToken.DateSource(rawValue: text) {
                date = d
            } else {
                let names = ["SliceStart", "SliceEnd"]
                error(dateNode.position, "partitionedBy date \"\(text)\" is not one of SliceStart, SliceEnd" + Suggestion.hint(for: text, among: names))
            }
        }
        var format: String?
        if let formatNode = reader.required(valueNode, "format", in: "the partitionedBy value"),
           let text = reader.nonEmptyString(formatNode, "partitionedBy format") {
            format = text
            do {
                try DotNetDateFormat.validate(text)
            } catch {
                self.error(formatNode.position(ofScalarOffset: error.offset), "partitionedBy format '\(text)': \(error.message)")
            }
        }
        guard let name, let date, let format else { return (nil, nameRef) }
        return (PartitionToken(name: name, date: date, format: format), nameRef)
    }

    /// Checks a folderPath/fileName template without expanding it: every `{Token}` has a
    /// partitionedBy entry, and the path stays under its root (no leading `/`, drive letter or
    /// `..` segment). Errors point at the offending character.
    mutating func checkPath(_ text: String, _ node: Node, field: String, tokens: Set<String>, tokenOrder: [String]) {
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "{", let close = scalars[(i + 1)...].firstIndex(of: "}") {
                let token = String(String.UnicodeScalarView(scalars[(i + 1)..<close]))
                if !tokens.contains(token) {
                    let hint = Suggestion.closest(to: token, among: tokenOrder).map { "; did you mean {\($0)}?" } ?? ""
                    let message = tokens.isEmpty
                        ? "{\(token)} in \(field) has no partitionedBy entry (the dataset has no partitionedBy)"
                        : "{\(token)} in \(field) has no partitionedBy entry named '\(token)'\(hint)"
                    error(node.position(ofScalarOffset: i), message)
                }
                i = close + 1
            } else if scalars[i] == "{" {
                error(node.position(ofScalarOffset: i), "unclosed '{' in \(field): a {Token} needs its closing '}'")
                break
            } else {
                i += 1
            }
        }
        if let first = scalars.first, first == "/" || first == "\\" {
            error(node.position(ofScalarOffset: 0), "\(field) must be relative to its root; remove the leading '\(Character(first))'")
        } else if scalars.count >= 2, scalars[1] == ":", scalars[0].properties.isAlphabetic {
            error(node.position(ofScalarOffset: 0), "\(field) must be relative to its root, not a drive path")
        }
        var segmentStart = 0
        for j in 0...scalars.count {
            if j == scalars.count || scalars[j] == "/" || scalars[j] == "\\" {
                if j - segmentStart == 2, scalars[segmentStart] == ".", scalars[segmentStart + 1] == "." {
                    error(node.position(ofScalarOffset: segmentStart), "'..' in \(field) escapes the dataset's root folder")
                }
                segmentStart = j + 1
            }
        }
    }

    mutating func decodeExternalData(_ node: Node, _ what: String) -> Dataset.ExternalDataPolicy? {
        guard reader.object(node, what) != nil else { return nil }
        defer { reader.unknownKeys(node, in: what, used: ADFKeys.externalData) }
        var policy = Dataset.ExternalDataPolicy()
        if let n = node["dataDelay"], let v = reader.timeSpan(n, "\(what).dataDelay") { policy.dataDelay = v }
        if let n = node["retryInterval"], let v = reader.timeSpan(n, "\(what).retryInterval") { policy.retryInterval = v }
        if let n = node["retryTimeout"], let v = reader.timeSpan(n, "\(what).retryTimeout") { policy.retryTimeout = v }
        if let n = node["maximumRetry"], let v = reader.integer(n, "\(what).maximumRetry", in: 1...10) { policy.maximumRetry = v }
        return policy
    }

    mutating func decodeValidation(_ node: Node) -> Dataset.ValidationPolicy? {
        guard reader.object(node, "policy.validation") != nil else { return nil }
        defer { reader.unknownKeys(node, in: "policy.validation", used: ADFKeys.validation) }
        var policy = Dataset.ValidationPolicy()
        if let n = node["minimumSizeMB"], let v = reader.double(n, "policy.validation.minimumSizeMB") {
            if v < 0 { error(n.position, "policy.validation.minimumSizeMB must not be negative") } else { policy.minimumSizeMB = v }
        }
        if let n = node["minimumRows"], let v = reader.integer(n, "policy.validation.minimumRows") {
            if v < 0 { error(n.position, "policy.validation.minimumRows must not be negative") } else { policy.minimumRows = v }
        }
        return policy
    }

    /// An `availability` or `scheduler` block (ADF-SEMANTICS §1.1).
    mutating func decodeAvailability(_ node: Node, _ what: String) -> DecodedAvailability? {
        guard reader.object(node, what) != nil else { return nil }
        defer { reader.unknownKeys(node, in: what, used: ADFKeys.availability) }
        let frequencyNode = reader.required(node, "frequency", in: what)
        let frequency = frequencyNode.flatMap { reader.enumeration($0, "\(what).frequency", Frequency.self) }
        let intervalNode = reader.required(node, "interval", in: what)
        var interval: Int?
        if let intervalNode, let v = reader.integer(intervalNode, "\(what).interval") {
            if v <= 0 {
                error(intervalNode.position, "\(what).interval must be at least 1, not \(v)")
            } else {
                interval = v
            }
        }
        var style = SliceStyle.endOfInterval
        let styleNode = node["style"]
        if let styleNode, let s = reader.enumeration(styleNode, "\(what).style", SliceStyle.self) { style = s }
        let anchorNode = node["anchorDateTime"]
        let anchor = anchorNode.flatMap { reader.instant($0, "\(what).anchorDateTime") }
        let offsetNode = node["offset"]
        let offset = offsetNode.flatMap { reader.timeSpan($0, "\(what).offset") }
        guard let frequency, let interval, let frequencyNode, let intervalNode else { return nil }
        if frequency == .minute && interval < 15 {
            warning(intervalNode.position, "\(what) of \(interval) minute\(interval == 1 ? "" : "s") is below ADF's recommended minimum of 15 minutes")
        }
        return DecodedAvailability(
            availability: Availability(frequency: frequency, interval: interval, style: style, anchorDateTime: anchor, offset: offset),
            position: node.position, frequencyPosition: frequencyNode.position, intervalPosition: intervalNode.position,
            stylePosition: styleNode?.position, anchorPosition: anchorNode?.position, offsetPosition: offsetNode?.position)
    }

    // MARK: Pipelines

    mutating func decodePipeline(name: String, nameNode: Node, properties: Node, position: SourcePosition) -> DecodedPipeline? {
        let owner = "pipeline '\(name)'"
        defer { reader.unknownKeys(properties, in: "properties of \(owner)", used: ADFKeys.pipeline, ignored: ADFKeys.pipelineIgnored) }
        var start: Instant?, end: Instant?
        let startNode = properties["start"], endNode = properties["end"]
        if let startNode, !startNode.isNull { start = reader.instant(startNode, "start") }
        if let endNode, !endNode.isNull { end = reader.instant(endNode, "end") }
        if let start, let end, let endNode {
            if end < start {
                error(endNode.position, "end \(end) is before start \(start)")
            } else if end == start {
                warning(endNode.position, "end equals start, so \(owner) has an empty active period and produces no windows")
            }
        }
        if let endNode, !endNode.isNull, startNode == nil || startNode?.isNull == true {
            error(endNode.position, "\(owner) has an end but no start; ADF requires both")
        }
        var isPaused = false
        if let node = properties["isPaused"], let b = reader.bool(node, "isPaused") { isPaused = b }
        var mode = Pipeline.PipelineMode.scheduled
        if let node = properties["pipelineMode"], let text = reader.string(node, "pipelineMode") {
            switch text.lowercased() {
            case "scheduled": mode = .scheduled
            case "onetime": mode = .onetime
            default:
                error(node.position, "pipelineMode \"\(text)\" is not one of Scheduled, OneTime" + Suggestion.hint(for: text, among: ["Scheduled", "OneTime"]))
            }
        }
        if let node = properties["expirationTime"] { _ = reader.timeSpan(node, "expirationTime") }

        guard let activitiesNode = properties["activities"] else { return nil }
        guard let elements = activitiesNode.elements else {
            error(activitiesNode.position, "activities must be an array, not \(activitiesNode.kindDescription)")
            return nil
        }
        if elements.isEmpty {
            error(activitiesNode.position, "\(owner) has no activities")
        }
        // ADF v2 pipelines chain activities with dependsOn and have no output datasets (ADF-SAMPLES §4).
        let hasDependsOn = elements.contains { $0["dependsOn"] != nil }
        let lacksOutputs = elements.contains { ($0["outputs"]?.elements ?? []).isEmpty }
        if hasDependsOn && lacksOutputs {
            error(activitiesNode.position, "\(owner) is an ADF v2 pipeline (activities chained by dependsOn, without output datasets); Refit runs ADF v1 pipelines, whose activities name input and output datasets that drive their schedule")
            return nil
        }
        var activities: [DecodedActivity] = []
        var seen: [String: SourcePosition] = [:]
        for element in elements {
            guard let activity = decodeActivity(element, pipeline: name) else { continue }
            if let first = seen[activity.activity.name] {
                error(activity.namePosition, "\(owner) has two activities named '\(activity.activity.name)' (first at line \(first.line), column \(first.column))")
                continue
            }
            seen[activity.activity.name] = activity.namePosition
            activities.append(activity)
        }
        let pipeline = Pipeline(name: name, activities: activities.map(\.activity), start: start, end: end,
                                isPaused: isPaused, position: position, pipelineMode: mode)
        return DecodedPipeline(pipeline: pipeline, namePosition: nameNode.position, activities: activities)
    }

    mutating func decodeActivity(_ node: Node, pipeline: String) -> DecodedActivity? {
        guard reader.object(node, "an activity") != nil else { return nil }
        guard let nameNode = reader.required(node, "name", in: "the activity"),
              let name = reader.nonEmptyString(nameNode, "activity name") else { return nil }
        let owner = "activity '\(name)'"
        defer { reader.unknownKeys(node, in: owner, used: ADFKeys.activity, ignored: ADFKeys.activityIgnored) }
        if name.unicodeScalars.count > ADFVocabulary.maximumNameLength {
            error(nameNode.position, "activity name is \(name.unicodeScalars.count) characters long; ADF allows at most \(ADFVocabulary.maximumNameLength)")
        }
        var typeName = ""
        if let typeNode = reader.required(node, "type", in: owner), let type = reader.string(typeNode, "activity type") {
            typeName = type
            if !ADFVocabulary.activityTypes.contains(type) {
                if ADFVocabulary.otherActivityTypes.contains(type) {
                    error(typeNode.position, "Refit cannot run \(type) activities; it runs \(ADFVocabulary.activityTypes.joined(separator: ", "))")
                } else {
                    error(typeNode.position, "unknown activity type \"\(type)\"; Refit runs \(ADFVocabulary.activityTypes.joined(separator: ", "))"
                          + Suggestion.hint(for: type, among: ADFVocabulary.activityTypes + ADFVocabulary.otherActivityTypes))
                }
            }
        }
        if let dependsOn = node.member("dependsOn") {
            warning(dependsOn.keyPosition, "dependsOn is ignored: Refit chains activities by datasets (an output of one is an input of the next)")
        }

        var inputs: [Activity.Input] = [], inputRefs: [Reference] = []
        if let list = node["inputs"], !list.isNull {
            if let entries = list.elements {
                for entry in entries {
                    guard let ref = datasetEntry(entry, "inputs") else { continue }
                    var input = Activity.Input(name: ref.name, position: ref.position)
                    for key in ["startTime", "endTime"] {
                        guard let exprNode = entry[key], let expr = reader.nonEmptyString(exprNode, "\(key) of input '\(ref.name)'") else { continue }
                        if let problem = DefinitionDecoder.dependencyExpressionProblem(expr) {
                            error(exprNode.position(ofScalarOffset: problem.offset), "\(key) of input '\(ref.name)': \(problem.message)")
                        }
                        if key == "startTime" { input.startTime = expr } else { input.endTime = expr }
                    }
                    inputs.append(input)
                    inputRefs.append(ref)
                }
            } else {
                error(list.position, "inputs must be an array, not \(list.kindDescription)")
            }
        }
        var outputRefs: [Reference] = []
        let outputsNode = node["outputs"]
        if let list = outputsNode, !list.isNull {
            if let entries = list.elements {
                outputRefs = entries.compactMap { datasetEntry($0, "outputs") }
            } else {
                error(list.position, "outputs must be an array, not \(list.kindDescription)")
            }
        }
        if outputsNode?.elements?.isEmpty ?? (outputsNode == nil || outputsNode?.isNull == true) {
            error(outputsNode?.position ?? nameNode.position, "\(owner) has no outputs; an activity needs an output dataset to drive its schedule (use a placeholder dataset if it writes nothing, as ADF-SAMPLES §1.6 does)")
        }
        let linkedService = node["linkedServiceName"].flatMap { $0.isNull ? nil : reference($0, "linkedServiceName", expectedType: "LinkedServiceReference") }
        var policy = ActivityPolicy()
        if let node = node["policy"] { policy = decodePolicy(node) }
        let scheduler = node["scheduler"].flatMap { decodeAvailability($0, "scheduler") }

        var decoded = DecodedActivity(
            activity: Activity(name: name, typeName: typeName, kind: .azureMLBatchExecution(.init()), inputs: inputs,
                               outputs: outputRefs.map(\.name), linkedServiceName: linkedService?.name, policy: policy,
                               scheduler: scheduler?.availability, position: node.position),
            namePosition: nameNode.position, inputs: inputRefs, outputs: outputRefs, linkedService: linkedService,
            webServiceInputs: [], webServiceOutputs: [], trainedModelDataset: nil, trainedModelLinkedService: nil,
            stagingLinkedService: nil, scheduler: scheduler)

        let tp = node["typeProperties"]
        if let tp, reader.object(tp, "typeProperties of \(owner)") == nil { return decoded }
        switch typeName {
        case "AzureMLBatchExecution":
            decodeBatchExecution(tp, into: &decoded)
        case "AzureMLUpdateResource":
            guard let tp = tp ?? reader.required(node, "typeProperties", in: owner) else { break }
            decodeUpdateResource(tp, into: &decoded, owner: owner)
        case "Command":
            guard let tp = tp ?? reader.required(node, "typeProperties", in: owner) else { break }
            decodeCommand(tp, into: &decoded, owner: owner)
        default:
            break
        }
        if let tp, let keys = ADFKeys.activityTypeProperties[typeName] {
            reader.unknownKeys(tp, in: "typeProperties of \(owner)", used: keys)
        }
        return decoded
    }

    /// An `inputs`/`outputs` entry: `{"name": …}`, `{"referenceName": …, "type": "DatasetReference"}` or a name.
    mutating func datasetEntry(_ entry: Node, _ what: String) -> Reference? {
        if entry.string != nil { return reference(entry, "\(what) entry", expectedType: "DatasetReference") }
        guard reader.object(entry, "an \(what) entry") != nil else { return nil }
        if entry["name"] == nil && entry["referenceName"] != nil {
            return reference(entry, "\(what) entry", expectedType: "DatasetReference")
        }
        defer { reader.unknownKeys(entry, in: "the \(what) entry", used: ADFKeys.datasetEntry) }
        guard let nameNode = reader.required(entry, "name", in: "the \(what) entry") else { return nil }
        guard let name = reader.nonEmptyString(nameNode, "\(what) name") else { return nil }
        return Reference(name: name, position: nameNode.position)
    }

    mutating func decodePolicy(_ node: Node) -> ActivityPolicy {
        var policy = ActivityPolicy()
        guard reader.object(node, "policy") != nil else { return policy }
        defer { reader.unknownKeys(node, in: "policy", used: ADFKeys.activityPolicy, ignored: ADFKeys.activityPolicyIgnored) }
        if let n = node["concurrency"], let v = reader.integer(n, "policy.concurrency", in: 1...10) { policy.concurrency = v }
        if let n = node["executionPriorityOrder"],
           let v = reader.enumeration(n, "policy.executionPriorityOrder", ActivityPolicy.PriorityOrder.self) {
            policy.executionPriorityOrder = v
        }
        if let n = node["retry"], let v = reader.integer(n, "policy.retry", in: 0...10) { policy.retry = v }
        if let n = node["timeout"], let v = reader.timeSpan(n, "policy.timeout") { policy.timeout = v }
        if let n = node["delay"], let v = reader.timeSpan(n, "policy.delay") { policy.delay = v }
        if let n = node["longRetry"], let v = reader.integer(n, "policy.longRetry", in: 1...10) { policy.longRetry = v }
        if let n = node["longRetryInterval"], let v = reader.timeSpan(n, "policy.longRetryInterval") { policy.longRetryInterval = v }
        return policy
    }

    /// A web service input/output mapping value: a dataset name (ADF v1).
    mutating func webServiceDataset(_ node: Node, _ what: String) -> Reference? {
        if node.members != nil, node["FilePath"] != nil || node["LinkedServiceName"] != nil {
            error(node.position, "\(what) uses ADF v2's {LinkedServiceName, FilePath} form; Refit needs the name of a dataset")
            return nil
        }
        return reference(node, what, expectedType: "DatasetReference")
    }

    mutating func decodeBatchExecution(_ tp: Node?, into decoded: inout DecodedActivity) {
        var bes = Activity.BatchExecution()
        guard let tp else { decoded.activity.kind = .azureMLBatchExecution(bes); return }
        if let node = tp["webServiceInput"], !node.isNull, let ref = webServiceDataset(node, "webServiceInput") {
            bes.webServiceInput = ref.name
            decoded.webServiceInputs.append(ref)
        }
        if let member = tp.member("webServiceInputs"), !member.value.isNull {
            if tp["webServiceInput"] != nil {
                error(member.keyPosition, "give webServiceInput or webServiceInputs, not both")
            }
            if let members = member.value.members {
                for m in members {
                    guard let ref = webServiceDataset(m.value, "webServiceInputs.\(m.key)") else { continue }
                    bes.webServiceInputs.append(NamedValue(m.key, ref.name))
                    decoded.webServiceInputs.append(ref)
                }
            } else {
                error(member.value.position, "webServiceInputs must be an object mapping web service inputs to datasets, not \(member.value.kindDescription)")
            }
        }
        if let node = tp["webServiceOutputs"], !node.isNull {
            if let members = node.members {
                for m in members {
                    guard let ref = webServiceDataset(m.value, "webServiceOutputs.\(m.key)") else { continue }
                    bes.webServiceOutputs.append(NamedValue(m.key, ref.name))
                    decoded.webServiceOutputs.append(ref)
                }
            } else {
                error(node.position, "webServiceOutputs must be an object mapping web service outputs to datasets, not \(node.kindDescription)")
            }
        }
        if let node = tp["globalParameters"], !node.isNull {
            if let members = node.members {
                for m in members {
                    let text: String
                    switch m.value.value {
                    case .string(let s): text = s
                    case .number(let n): text = n
                    case .bool(let b): text = b ? "true" : "false"
                    default:
                        error(m.value.position, "globalParameters.\(m.key) must be a string, number or boolean, not \(m.value.kindDescription)")
                        continue
                    }
                    if ExpressionTemplate.isExpression(text) {
                        do {
                            _ = try ExpressionTemplate.parse(text)
                        } catch {
                            self.error(m.value.position(ofScalarOffset: error.offset), "globalParameters.\(m.key): \(error.message)")
                        }
                    }
                    bes.globalParameters.append(NamedValue(m.key, text))
                }
            } else {
                error(node.position, "globalParameters must be an object, not \(node.kindDescription)")
            }
        }
        if let node = tp["stagingLinkedService"], !node.isNull,
           let ref = reference(node, "stagingLinkedService", expectedType: "LinkedServiceReference") {
            bes.stagingLinkedService = ref.name
            decoded.stagingLinkedService = ref
        }
        decoded.activity.kind = .azureMLBatchExecution(bes)
    }

    /// Both forms of ADF-SEMANTICS D12: v1 `trainedModelDatasetName`, v2
    /// `trainedModelLinkedServiceName` + `trainedModelFilePath`.
    mutating func decodeUpdateResource(_ tp: Node, into decoded: inout DecodedActivity, owner: String) {
        let modelName = reader.required(tp, "trainedModelName", in: "typeProperties of \(owner)")
            .flatMap { reader.nonEmptyString($0, "trainedModelName") }
        var update = Activity.UpdateResource(trainedModelName: modelName ?? "")
        let datasetNode = tp["trainedModelDatasetName"].flatMap { $0.isNull ? nil : $0 }
        let lsMember = tp.member("trainedModelLinkedServiceName")
        let pathNode = tp["trainedModelFilePath"].flatMap { $0.isNull ? nil : $0 }
        if let datasetNode, let ref = reference(datasetNode, "trainedModelDatasetName", expectedType: "DatasetReference") {
            update.trainedModelDatasetName = ref.name
            decoded.trainedModelDataset = ref
        }
        if let lsMember, !lsMember.value.isNull {
            if datasetNode != nil {
                error(lsMember.keyPosition, "give trainedModelDatasetName (ADF v1) or trainedModelLinkedServiceName with trainedModelFilePath (ADF v2), not both")
            }
            if let ref = reference(lsMember.value, "trainedModelLinkedServiceName", expectedType: "LinkedServiceReference") {
                update.trainedModelLinkedServiceName = ref.name
                decoded.trainedModelLinkedService = ref
            }
            if pathNode == nil {
                error(lsMember.keyPosition, "trainedModelLinkedServiceName needs trainedModelFilePath (the iLearner file's path in that store)")
            }
        }
        if let pathNode, let path = reader.nonEmptyString(pathNode, "trainedModelFilePath") {
            if lsMember == nil {
                error(pathNode.position, "trainedModelFilePath needs trainedModelLinkedServiceName (the store that holds the file)")
            }
            checkPath(path, pathNode, field: "trainedModelFilePath", tokens: [], tokenOrder: [])
            update.trainedModelFilePath = path
        }
        if datasetNode == nil && lsMember == nil && pathNode == nil {
            error(tp.position, "typeProperties of \(owner) needs trainedModelDatasetName (ADF v1) or trainedModelLinkedServiceName with trainedModelFilePath (ADF v2)")
        }
        decoded.activity.kind = .azureMLUpdateResource(update)
    }

    mutating func decodeCommand(_ tp: Node, into decoded: inout DecodedActivity, owner: String) {
        var arguments: [String] = []
        if let node = reader.required(tp, "arguments", in: "typeProperties of \(owner)") {
            if let elements = node.elements, !elements.isEmpty {
                arguments = elements.compactMap { reader.string($0, "each argument") }
            } else {
                error(node.position, "arguments must be a non-empty array of strings (the program, then its arguments)")
            }
        }
        let directory = reader.optionalString(tp, "workingDirectory", "workingDirectory")
        var environment: [NamedValue] = []
        if let node = tp["environment"], !node.isNull {
            if let members = node.members {
                for m in members {
                    if let value = reader.string(m.value, "environment.\(m.key)") { environment.append(NamedValue(m.key, value)) }
                }
            } else {
                error(node.position, "environment must be an object of strings, not \(node.kindDescription)")
            }
        }
        decoded.activity.kind = .command(.init(arguments: arguments, workingDirectory: directory, environment: environment))
    }
}

extension DefinitionDecoder {
    /// Why an input's `startTime`/`endTime` expression is unusable (its 0-based scalar offset and
    /// one sentence), or nil: it must parse and give a DateTime.
    static func dependencyExpressionProblem(_ text: String) -> (offset: Int, message: String)? {
        do {
            let expression = try ADFExpression.parse(text)
            guard expression.resultType == .dateTime else {
                return (max(0, expression.root.column - 1), "the expression gives \(expression.resultType), but a DateTime is needed")
            }
            return nil
        } catch {
            return (error.offset, error.message)
        }
    }

    /// Whether a dataset's path, expanded for a slice, leaves its root (`..`, absolute paths):
    /// the formats themselves may write `/` or quoted literals, so the check runs after expansion.
    static func expandedPathProblem(_ dataset: Dataset) -> String? {
        guard let schedule = try? SliceSchedule(dataset.availability) else { return nil }
        let slice = schedule.slice(containing: Instant(year: 2026, month: 1, day: 1))
        let parts = [dataset.location.folderPath, dataset.location.fileName].compactMap { $0 }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { return nil }
        // A literal '..' or absolute path is reported where it is written; this check is for
        // what only the expansion reveals.
        guard !PartitionedPath.escapesRoot(parts.joined(separator: "/")) else { return nil }
        guard let expanded = try? parts.map({ try PartitionedPath.expand($0, tokens: dataset.location.partitionedBy, slice: slice) }) else {
            return nil  // unknown tokens and bad formats are reported at their own positions
        }
        let path = expanded.joined(separator: "/")
        guard PartitionedPath.escapesRoot(path) else { return nil }
        return "the path of dataset '\(dataset.name)' expands to '\(path)' for slice \(slice.start), which leaves its root; "
            + "use a relative path without '..'"
    }
}
