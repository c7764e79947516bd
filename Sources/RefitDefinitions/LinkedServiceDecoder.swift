import RefitCore

/// Linked services: one decoder per `properties.type`, checking what the service will need.
extension DefinitionDecoder {
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
}
