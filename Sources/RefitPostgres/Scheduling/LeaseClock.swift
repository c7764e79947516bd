import RefitCore

/// Whose clock stamps and expires leases.
public enum LeaseClock: Sendable, Hashable {
    /// The PostgreSQL server's (`clock_timestamp()`): a lease is stamped as the server's time
    /// plus its duration and expires when the server's time passes it, so hosts whose clocks
    /// disagree can never take a live lease from each other. What production uses.
    case database
    /// The `now` each call passes: the SQLite store's semantics, for tests that drive time with
    /// a manual clock.
    case caller
}
