import RefitCore

/// One parsed definition file: what `DefinitionValidator` consumes.
public struct DefinitionDocument: Sendable {
    /// The file name as it should appear in messages (e.g. `schedules/pipeline.json`).
    public var file: String
    public var root: Node
    /// The file had a fatal syntax error (already reported) and `root` is what was read before
    /// it: only the entity's name and kind are taken from it, so references to the entity do
    /// not add "not defined" noise.
    public var isPartial: Bool
    public init(file: String, root: Node, isPartial: Bool = false) {
        self.file = file; self.root = root; self.isPartial = isPartial
    }
}

/// A reference by name to another entity, where it was written.
struct Reference: Hashable {
    var name: String
    var position: SourcePosition
}

/// A secret as written, for the environment/file checks and the literal-secret warnings.
struct SecretUse {
    var secret: Secret
    var position: SourcePosition
    /// e.g. "apiKey of linked service 'trainingEndpoint'"
    var label: String
}

/// A `{"env": NAME}` setting as written, for the unset-variable warning.
struct SettingUse {
    var name: String
    var position: SourcePosition
    /// e.g. "mlEndpoint of linked service 'trainingEndpoint'"
    var label: String
}

/// An `availability` or `scheduler` block with the positions of its fields.
struct DecodedAvailability {
    var availability: Availability
    var position: SourcePosition
    var frequencyPosition: SourcePosition
    var intervalPosition: SourcePosition
    var stylePosition: SourcePosition?
    var anchorPosition: SourcePosition?
    var offsetPosition: SourcePosition?
}

struct DecodedLinkedService {
    var service: LinkedService
    var namePosition: SourcePosition
}

struct DecodedDataset {
    var dataset: Dataset
    var namePosition: SourcePosition
    var linkedService: Reference
    var availability: DecodedAvailability
}

struct DecodedActivity {
    var activity: Activity
    var namePosition: SourcePosition
    var inputs: [Reference]
    var outputs: [Reference]
    var linkedService: Reference?
    var webServiceInputs: [Reference]
    var webServiceOutputs: [Reference]
    var trainedModelDataset: Reference?
    var trainedModelLinkedService: Reference?
    var stagingLinkedService: Reference?
    var scheduler: DecodedAvailability?
}

struct DecodedPipeline {
    var pipeline: Pipeline
    var namePosition: SourcePosition
    var activities: [DecodedActivity]
}

/// The kinds of named entity, for duplicate detection and reference messages.
enum EntityKind: String, Hashable {
    case linkedService = "linked service", dataset, pipeline, trigger
}

/// What one file decoded to.
enum DecodedEntity {
    case linkedService(DecodedLinkedService)
    case dataset(DecodedDataset)
    case pipeline(DecodedPipeline)
    /// Recognised but not used by Refit (a v2 trigger, an AzureSqlTable dataset, ...).
    /// `typeName` is the ADF type, `reason` why references to it cannot work.
    case unsupported(kind: EntityKind, name: String, namePosition: SourcePosition, typeName: String)
    /// A definition whose kind and name are known but whose body has errors (already
    /// reported): its name still counts, so references to it do not add noise.
    case broken(kind: EntityKind, name: String, namePosition: SourcePosition)
    /// A definition whose name is known but whose kind is not (unknown type, syntax error):
    /// references to the name, of any kind, are not reported.
    case unknownKind(name: String, namePosition: SourcePosition)
}
