#if canImport(Glibc)
import CMalloc
import Glibc
#endif

/// glibc's malloc gives a thread that finds the arena it wants locked an arena of its own, up to
/// eight per processor, and memory freed into one arena is never handed to a thread of another. A
/// worker's allocations come from about ten threads (the concurrency pool, libcurl's loop, the
/// checkpointer, signal and dispatch threads), so its heap was spread over up to eight partly used
/// arenas. `refit` allows two (decision record 33); a user's own `MALLOC_ARENA_MAX` or
/// `glibc.malloc.arena_max` tunable wins.
enum MallocArenas {
    static let maximum: Int32 = 2

    /// Call first thing in `main`, before other threads allocate.
    static func limit() {
        #if canImport(Glibc)
        if getenv("MALLOC_ARENA_MAX") != nil { return }
        if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("arena_max") { return }
        _ = mallopt(M_ARENA_MAX, maximum)
        #endif
    }
}
