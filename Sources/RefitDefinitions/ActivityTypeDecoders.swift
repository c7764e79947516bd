import RefitCore

/// What an activity type's decoder found: the activity's kind and the references its
/// `typeProperties` make, which the cross-file checks resolve.
struct ActivityTypeDetails {
    var kind: Activity.Kind
    var webServiceInputs: [Reference] = []
    var webServiceOutputs: [Reference] = []
    var trainedModelDataset: Reference?
    var trainedModelLinkedService: Reference?
    var stagingLinkedService: Reference?
}

/// One decoder per activity type (`AzureMLBatchExecution`, `AzureMLUpdateResource`, `Command`),
/// each returning its kind.
extension DefinitionDecoder {
    mutating func webServiceDataset(_ node: Node, _ what: String) -> Reference? {
        if node.members != nil, node["FilePath"] != nil || node["LinkedServiceName"] != nil {
            error(node.position, "\(what) uses ADF v2's {LinkedServiceName, FilePath} form; Refit needs the name of a dataset")
            return nil
        }
        return reference(node, what, expectedType: "DatasetReference")
    }

    mutating func decodeBatchExecution(_ tp: Node?) -> ActivityTypeDetails {
        var bes = Activity.BatchExecution()
        var decoded = ActivityTypeDetails(kind: .azureMLBatchExecution(bes))
        guard let tp else { return decoded }
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
        decoded.kind = .azureMLBatchExecution(bes)
        return decoded
    }

    /// Both forms of docs/SEMANTICS.md D12: v1 `trainedModelDatasetName`, v2
    /// `trainedModelLinkedServiceName` + `trainedModelFilePath`.
    mutating func decodeUpdateResource(_ tp: Node, owner: String) -> ActivityTypeDetails {
        let modelName = reader.required(tp, "trainedModelName", in: "typeProperties of \(owner)")
            .flatMap { reader.nonEmptyString($0, "trainedModelName") }
        var update = Activity.UpdateResource(trainedModelName: modelName ?? "")
        var decoded = ActivityTypeDetails(kind: .azureMLUpdateResource(update))
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
        decoded.kind = .azureMLUpdateResource(update)
        return decoded
    }

    mutating func decodeCommand(_ tp: Node, owner: String) -> ActivityTypeDetails {
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
        return ActivityTypeDetails(kind: .command(.init(arguments: arguments, workingDirectory: directory, environment: environment)))
    }
}
