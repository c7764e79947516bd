import Synchronization

/// Values worth computing once per process, by key: what the activities parse again for every
/// window otherwise (a storage connection string, a dataset's path template). Bounded, because
/// keys can keep coming (secrets rotated, definitions reloaded): when full, it starts over.
/// Failures are not kept, so a key that failed is tried again.
public final class ProcessMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let values = Mutex<[Key: Value]>([:])
    private let limit: Int

    public init(limit: Int) { self.limit = limit }

    /// The value of `key`, made by `make` on the first call (or after the memo started over).
    public func value<E: Error>(for key: Key, make: () throws(E) -> Value) throws(E) -> Value {
        if let known = values.withLock({ $0[key] }) { return known }
        let value = try make()
        values.withLock { known in
            if known.count >= limit { known.removeAll() }
            known[key] = value
        }
        return value
    }
}
