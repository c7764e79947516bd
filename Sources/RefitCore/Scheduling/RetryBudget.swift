/// How many attempts a window gets and how they are spaced (docs/SEMANTICS.md D5).
///
/// Without `longRetry` (or `longRetry: 1`) a window gets `1 + retry` attempts, all "as soon as
/// possible". With `longRetry: L > 1` it gets `L` rounds of `max(retry, 1)` attempts, rounds
/// spaced by `longRetryInterval` — which reproduces ADF's worked example (retry 3, longRetry 2,
/// 1 h → 6 attempts, the second round an hour after the first ended).
public struct RetryBudget: Hashable, Sendable {
    public var attemptsPerRound: Int
    public var rounds: Int
    public var roundInterval: TimeSpan

    public init(attemptsPerRound: Int, rounds: Int, roundInterval: TimeSpan) {
        self.attemptsPerRound = max(1, attemptsPerRound)
        self.rounds = max(1, rounds)
        self.roundInterval = roundInterval
    }

    public init(_ policy: ActivityPolicy) {
        if policy.longRetry > 1 {
            self.init(attemptsPerRound: max(policy.retry, 1), rounds: policy.longRetry, roundInterval: policy.longRetryInterval)
        } else {
            self.init(attemptsPerRound: 1 + max(policy.retry, 0), rounds: 1, roundInterval: .zero)
        }
    }

    /// Every attempt the window may ever make before it is Failed.
    public var totalAttempts: Int { attemptsPerRound * rounds }
}
