import RefitCore

/// One attempt's history row, in the vocabulary every store shares.
struct RunSnapshot: Hashable, Sendable {
    var runID: String
    var windowID: Int64
    var attempt: Int
    var trigger: RunTrigger?
    var status: RunStatus?
    var substatus: WindowSubstate?
    var errorClass: RunErrorClass?
    var errorMessage: String?
    var externalJobID: String?
    var workerID: String
    var ended: Bool
}
