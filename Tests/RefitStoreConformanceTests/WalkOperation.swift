import RefitCore

/// One step of a random walk.
enum WalkOperation: CustomStringConvertible {
    case materialize(ActivityKey, Range<Int>)
    case resolve
    case check(pick: Int, present: Bool)
    case claim(ActivityKey, worker: String, run: String)
    case finish(pick: Int, outcome: Int)
    case release(pick: Int)
    case renew(pick: Int)
    case recover
    case rerun(ActivityKey, Int)
    case pause(Bool)
    case label(ActivityKey)
    case reset
    case endpoint(pick: Int, model: Int)
    case wait(minutes: Int64)

    var description: String {
        switch self {
        case .materialize(let key, let hours): "materialize \(key) \(hours)"
        case .resolve: "resolve"
        case .check(let pick, let present): "check #\(pick) \(present ? "present" : "absent")"
        case .claim(let key, let worker, let run): "claim \(key) by \(worker) as \(run)"
        case .finish(let pick, let outcome): "finish #\(pick) outcome \(outcome)"
        case .release(let pick): "release #\(pick)"
        case .renew(let pick): "renew #\(pick)"
        case .recover: "recover"
        case .rerun(let key, let index): "rerun \(key) \(index)"
        case .pause(let paused): paused ? "pause P" : "resume P"
        case .label(let key): "label \(key)"
        case .reset: "reset P"
        case .endpoint(let pick, let model): "endpoint #\(pick) model \(model)"
        case .wait(let minutes): "wait \(minutes)m"
        }
    }
}
