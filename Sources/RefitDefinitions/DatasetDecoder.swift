import RefitCore

/// Datasets: location (paths and `partitionedBy` tokens), availability and policies.
extension DefinitionDecoder {
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
                // docs/SAMPLES.md §1.2 (UR1) has externalData without "external": true; a doc slip.
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

    /// An `availability` or `scheduler` block (docs/SEMANTICS.md §1.1).
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
