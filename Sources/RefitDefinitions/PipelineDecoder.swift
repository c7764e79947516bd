import RefitCore

/// Pipelines and the type-independent part of their activities (inputs, outputs, policy,
/// scheduler); the type-specific part is in `ActivityTypeDecoders.swift`.
extension DefinitionDecoder {
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
        // ADF v2 pipelines chain activities with dependsOn and have no output datasets (docs/SAMPLES.md §4).
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
            error(outputsNode?.position ?? nameNode.position, "\(owner) has no outputs; an activity needs an output dataset to drive its schedule (use a placeholder dataset if it writes nothing, as Microsoft's Update Resource samples do)")
        }
        let linkedService = node["linkedServiceName"].flatMap { $0.isNull ? nil : reference($0, "linkedServiceName", expectedType: "LinkedServiceReference") }
        var policy = ActivityPolicy()
        if let node = node["policy"] { policy = decodePolicy(node) }
        let scheduler = node["scheduler"].flatMap { decodeAvailability($0, "scheduler") }

        let tp = node["typeProperties"]
        let typePropertiesUsable = tp.map { reader.object($0, "typeProperties of \(owner)") != nil } ?? true
        var details: ActivityTypeDetails?
        if typePropertiesUsable {
            switch typeName {
            case "AzureMLBatchExecution":
                details = decodeBatchExecution(tp)
            case "AzureMLUpdateResource":
                details = (tp ?? reader.required(node, "typeProperties", in: owner)).map { decodeUpdateResource($0, owner: owner) }
            case "Command":
                details = (tp ?? reader.required(node, "typeProperties", in: owner)).map { decodeCommand($0, owner: owner) }
            default:
                break
            }
            if let tp, let keys = ADFKeys.activityTypeProperties[typeName] {
                reader.unknownKeys(tp, in: "typeProperties of \(owner)", used: keys)
            }
        }
        // Without details an error was reported (unknown type, unusable typeProperties), so
        // validation fails; the activity is kept for the cross-file checks of its datasets,
        // and its kind, never run, is a stand-in.
        let found = details ?? ActivityTypeDetails(kind: .azureMLBatchExecution(.init()))
        return DecodedActivity(
            activity: Activity(name: name, typeName: typeName, kind: found.kind, inputs: inputs,
                               outputs: outputRefs.map(\.name), linkedServiceName: linkedService?.name, policy: policy,
                               scheduler: scheduler?.availability, position: node.position),
            namePosition: nameNode.position, inputs: inputRefs, outputs: outputRefs, linkedService: linkedService,
            webServiceInputs: found.webServiceInputs, webServiceOutputs: found.webServiceOutputs,
            trainedModelDataset: found.trainedModelDataset, trainedModelLinkedService: found.trainedModelLinkedService,
            stagingLinkedService: found.stagingLinkedService, scheduler: scheduler)
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
}
