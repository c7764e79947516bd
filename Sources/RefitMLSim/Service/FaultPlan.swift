import Foundation

/// Operations that fault injection can target; one plan per operation.
public enum FaultOperation: String, Codable, Sendable, CaseIterable {
    case submit, start, status, delete, patch, score, blob, list, management
}

/// What to do to the calls of one operation, so client retry logic can be exercised.
///
/// A plan fires on the next `count` calls when `count` is set, else on a `rate` fraction of calls
/// (seeded RNG, so runs repeat), else on every call. When it fires: wait `latencyMs`, then drop the
/// connection (`drop`), or answer 200 with an invalid JSON body (`malformed`), or answer `status`
/// (500, 503 or 429; 503 and 429 carry `Retry-After`; on `blob` also 403, Azure Storage's
/// `AuthorizationFailure`, as a storage account whose firewall or permissions changed answers). `holdMs` is different: the call takes
/// effect and is logged, then its answer is held back that long — the window in which a client
/// has caused the effect but not yet learned of it (crash tests SIGKILL the client there).
public struct FaultPlan: Codable, Sendable, Equatable {
    public var operation: FaultOperation
    public var status: Int?
    public var count: Int?
    public var rate: Double?
    public var retryAfter: Int?
    public var latencyMs: Int?
    public var drop: Bool?
    public var malformed: Bool?
    public var holdMs: Int?

    public init(operation: FaultOperation, status: Int? = nil, count: Int? = nil, rate: Double? = nil,
                retryAfter: Int? = nil, latencyMs: Int? = nil, drop: Bool? = nil, malformed: Bool? = nil, holdMs: Int? = nil) {
        self.operation = operation
        self.status = status
        self.count = count
        self.rate = rate
        self.retryAfter = retryAfter
        self.latencyMs = latencyMs
        self.drop = drop
        self.malformed = malformed
        self.holdMs = holdMs
    }

    /// Rejects plans that would do nothing or that name an unsupported status.
    public func validate() throws(FaultSpecError) {
        if let status, ![500, 503, 429].contains(status) {
            guard status == 403, operation == .blob else {
                throw FaultSpecError("Fault status \(status) is not supported; use 500, 503 or 429 (or 403 on blob).")
            }
        }
        if let rate, !(0...1).contains(rate) { throw FaultSpecError("Fault rate \(rate) must be between 0 and 1.") }
        if let count, count < 0 { throw FaultSpecError("Fault count must not be negative.") }
        if let latencyMs, latencyMs < 0 { throw FaultSpecError("Fault latency must not be negative.") }
        if let holdMs {
            if holdMs < 0 { throw FaultSpecError("Fault hold must not be negative.") }
            if status != nil || drop == true || malformed == true {
                throw FaultSpecError("Fault hold lets the call succeed; it cannot be combined with a status, drop or malformed.")
            }
        }
        if status == nil, latencyMs == nil, drop != true, malformed != true, holdMs == nil {
            throw FaultSpecError("Fault for '\(operation.rawValue)' needs a status (500/503/429), latency, hold, drop or malformed.")
        }
    }

    /// Parses the `--fault` flag syntax.
    ///
    /// `OP:ITEM[:ITEM…]` with OP one of submit, start, status, delete, patch, score, blob, list,
    /// management and ITEMs `500|503|429` (`403` on blob), `count=N`, `rate=R`, `retry-after=S`, `latency=MS`,
    /// `hold=MS`, `drop`, `malformed`. Example: `submit:503:count=2:retry-after=1`.
    public static func parse(_ spec: String) throws(FaultSpecError) -> FaultPlan {
        let items = spec.split(separator: ":").map(String.init)
        guard let first = items.first, let operation = FaultOperation(rawValue: first) else {
            throw FaultSpecError("Fault '\(spec)' must start with one of: \(FaultOperation.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        var plan = FaultPlan(operation: operation)
        for item in items.dropFirst() {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let value = parts.count > 1 ? parts[1] : nil
            switch (parts[0], value) {
            case ("500", nil), ("503", nil), ("429", nil), ("403", nil): plan.status = Int(parts[0])
            case ("drop", nil): plan.drop = true
            case ("malformed", nil): plan.malformed = true
            case ("count", let v?):
                guard let n = Int(v) else { throw FaultSpecError("Fault count '\(v)' is not a whole number.") }
                plan.count = n
            case ("rate", let v?):
                guard let r = Double(v) else { throw FaultSpecError("Fault rate '\(v)' is not a number.") }
                plan.rate = r
            case ("retry-after", let v?):
                guard let s = Int(v) else { throw FaultSpecError("Fault retry-after '\(v)' is not a whole number of seconds.") }
                plan.retryAfter = s
            case ("latency", let v?):
                guard let ms = Int(v) else { throw FaultSpecError("Fault latency '\(v)' is not a whole number of milliseconds.") }
                plan.latencyMs = ms
            case ("hold", let v?):
                guard let ms = Int(v) else { throw FaultSpecError("Fault hold '\(v)' is not a whole number of milliseconds.") }
                plan.holdMs = ms
            default:
                throw FaultSpecError("Fault item '\(item)' in '\(spec)' is not understood.")
            }
        }
        try plan.validate()
        return plan
    }
}

/// The complete fault configuration: per-operation plans plus jobs forced to fail.
public struct FaultSettings: Codable, Sendable, Equatable {
    /// Plans keyed by operation; a later plan for the same operation replaces the earlier one.
    public var plans: [FaultPlan]
    /// The next N started jobs end `Failed`.
    public var failJobs: Int
    /// `Details` text of jobs failed by `failJobs`.
    public var failJobsDetails: String?

    public init(plans: [FaultPlan] = [], failJobs: Int = 0, failJobsDetails: String? = nil) {
        self.plans = plans
        self.failJobs = failJobs
        self.failJobsDetails = failJobsDetails
    }

    /// Parses one `--fault` flag; `jobs:fail=N[:details=TEXT]` sets failing jobs, anything else is a plan.
    public mutating func add(spec: String) throws(FaultSpecError) {
        if spec.hasPrefix("jobs:") {
            for item in spec.dropFirst(5).split(separator: ":", maxSplits: 1) {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                switch (parts[0], parts.count > 1 ? parts[1] : nil) {
                case ("fail", let v?):
                    guard let n = Int(v), n >= 0 else { throw FaultSpecError("jobs:fail needs a whole number, got '\(v)'.") }
                    failJobs = n
                case ("details", let v?): failJobsDetails = v
                default: throw FaultSpecError("Fault item '\(item)' in '\(spec)' is not understood; use jobs:fail=N[:details=TEXT].")
                }
            }
            return
        }
        merge(try FaultPlan.parse(spec))
    }

    /// Replaces the plan of the same operation.
    public mutating func merge(_ plan: FaultPlan) {
        plans.removeAll { $0.operation == plan.operation }
        plans.append(plan)
    }
}

/// A `--fault` flag or admin request that cannot be understood.
public struct FaultSpecError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The action decided for one call.
public enum FaultAction: Sendable, Equatable {
    case none
    case delay(milliseconds: Int, then: FaultOutcome)
}

extension FaultAction {
    /// How long the answer is held back after the call took effect (the plan's `holdMs`).
    public var holdMilliseconds: Int {
        if case .delay(_, .hold(let ms)) = self { return ms }
        return 0
    }
}

/// What happens after the optional delay.
public enum FaultOutcome: Sendable, Equatable {
    case proceed
    /// Proceed, then hold the answer back this long after the effect is logged.
    case hold(milliseconds: Int)
    case drop
    case malformed
    case error(MLServiceError)
}

/// Deterministic generator (SplitMix64) so rate-based faults and generated ids repeat under a seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension FaultPlan {
    /// Decides whether this call is hit, consuming one `count` or one random draw.
    mutating func decide(using rng: inout SeededGenerator) -> FaultAction {
        let fires: Bool
        if let remaining = count {
            fires = remaining > 0
            if fires { count = remaining - 1 }
        } else if let rate {
            fires = Double(rng.next() >> 11) / Double(1 << 53) < rate
        } else {
            fires = true
        }
        guard fires else { return .none }
        let outcome: FaultOutcome
        if drop == true {
            outcome = .drop
        } else if malformed == true {
            outcome = .malformed
        } else if let status {
            switch status {
            case 503:
                outcome = .error(MLServiceError(status: 503, code: "ServiceUnavailable", message: "Service is temporarily unavailable.",
                                                detailCode: "TooManyConcurrentRequests", detailMessage: "Too many concurrent requests (injected fault).",
                                                retryAfter: retryAfter ?? 1))
            case 403:
                outcome = .error(MLServiceError(status: 403, code: "AuthorizationFailure",
                                                message: "This request is not authorized to perform this operation.",
                                                detailCode: "InjectedFault", detailMessage: "Access denied (injected fault).",
                                                retryAfter: retryAfter))
            case 429:
                outcome = .error(MLServiceError(status: 429, code: "TooManyRequests", message: "Too many requests.",
                                                detailCode: "RequestThrottled", detailMessage: "The request was throttled (injected fault).",
                                                retryAfter: retryAfter ?? 1))
            default:
                outcome = .error(MLServiceError(status: 500, code: "InternalError", message: "The server encountered an internal error.",
                                                detailCode: "InjectedFault", detailMessage: "Internal error (injected fault).",
                                                retryAfter: retryAfter))
            }
        } else if let holdMs {
            outcome = .hold(milliseconds: holdMs)
        } else {
            outcome = .proceed
        }
        return .delay(milliseconds: latencyMs ?? 0, then: outcome)
    }
}
