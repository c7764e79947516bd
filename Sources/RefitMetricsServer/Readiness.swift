/// Whether the server listens yet: any number of waiters get the bound port once it is bound,
/// or nil once the server stopped without (or after) listening.
actor Readiness {
    private enum State {
        case waiting([CheckedContinuation<Int?, Never>])
        case listening(Int)
        case stopped
    }

    private var state = State.waiting([])

    func wait() async -> Int? {
        switch state {
        case .listening(let port): return port
        case .stopped: return nil
        case .waiting(let waiters):
            return await withCheckedContinuation { state = .waiting(waiters + [$0]) }
        }
    }

    func listening(_ port: Int) {
        guard case .waiting(let waiters) = state else { return }
        state = .listening(port)
        waiters.forEach { $0.resume(returning: port) }
    }

    func stopped() {
        if case .waiting(let waiters) = state { waiters.forEach { $0.resume(returning: nil) } }
        state = .stopped
    }
}
