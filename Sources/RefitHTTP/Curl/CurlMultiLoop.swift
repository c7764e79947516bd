import CCurl
import CLazyLibraries
import Foundation

/// libcurl is opened on first use (CLazyLibraries), and `curl_global_init` is not thread-safe and
/// must run once before any other libcurl call; a `static let` initializer runs exactly once,
/// under the runtime's own lock.
enum CurlGlobal {
    /// nil once libcurl is loaded and initialized; otherwise why it is not, as one sentence.
    static let failure: String? = {
        if let reason = refit_curl_load() { return String(cString: reason) }
        return refit_curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK ? nil : "libcurl could not be initialized"
    }()
}

/// A dedicated thread that drives one libcurl multi handle.
///
/// All blocking work (DNS, connect, TLS, waiting for bytes) happens here in `curl_multi_poll`, never on
/// Swift's cooperative pool. Tasks hand transfers over under `lock`; `curl_multi_wakeup` interrupts the
/// poll. The multi handle's connection cache gives keep-alive reuse across requests.
final class CurlMultiLoop: @unchecked Sendable {
    private let lock = NSLock()
    private let multi: UnsafeMutableRawPointer?
    // Guarded by `lock`.
    private var pendingAdds: [CurlTransfer] = []
    private var pendingCancels: [CurlTransfer] = []
    private var stopping = false
    private var multiAlive: Bool
    // Touched only by the loop thread.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(name: String) {
        multi = CurlGlobal.failure == nil ? refit_curl_multi_init() : nil
        multiAlive = multi != nil
        if let multi {
            // HTTP/1.1 only, one request per connection at a time; idle connections are kept for reuse.
            _ = refit_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, 0)
            let thread = Thread { [self] in run() }
            thread.name = name
            thread.start()
        }
    }

    /// Starts `transfer`; the continuation is resumed exactly once, from the loop thread (or here when
    /// the transfer was cancelled before it could start).
    func submit(_ transfer: CurlTransfer, continuation: CheckedContinuation<HTTPResponse, any Error>) {
        lock.lock()
        let refuse = stopping || !multiAlive || transfer.isCancelled
        if !refuse {
            transfer.continuation = continuation
            pendingAdds.append(transfer)
            if let multi { _ = refit_curl_multi_wakeup(multi) }
        }
        let cancelled = transfer.isCancelled
        lock.unlock()
        if refuse {
            let reason = cancelled ? "the task was cancelled" : "the HTTP client is shut down"
            continuation.resume(throwing: cancellation(of: transfer, reason))
        }
    }

    /// Aborts `transfer` if it is running or about to; safe to call at any time, from any thread.
    func cancel(_ transfer: CurlTransfer) {
        lock.lock()
        transfer.isCancelled = true
        pendingCancels.append(transfer)
        if multiAlive, let multi { _ = refit_curl_multi_wakeup(multi) }
        lock.unlock()
    }

    /// Ends the thread; transfers still running fail with `.cancelled`.
    func stop() {
        lock.lock()
        stopping = true
        if multiAlive, let multi { _ = refit_curl_multi_wakeup(multi) }
        lock.unlock()
    }

    private func run() {
        guard let multi else { return }
        while true {
            lock.lock()
            let adds = pendingAdds
            let cancels = pendingCancels
            let stop = stopping
            pendingAdds.removeAll()
            pendingCancels.removeAll()
            lock.unlock()

            if stop {
                for transfer in Array(active.values) + adds {
                    finish(transfer, multi: multi, with: .failure(cancellation(of: transfer, "the HTTP client is shut down")))
                }
                lock.lock()
                multiAlive = false
                refit_curl_multi_cleanup(multi)
                lock.unlock()
                return
            }
            for transfer in adds {
                if refit_curl_multi_add_handle(multi, transfer.easy) == CURLM_OK {
                    active[transfer.easy] = transfer
                } else {
                    finish(transfer, multi: nil, with: .failure(HTTPError(
                        code: .transport, method: transfer.request.method, url: transfer.redaction.url(transfer.request.url),
                        isRetryable: true, detail: "libcurl refused the transfer")))
                }
            }
            for transfer in cancels where active[transfer.easy] === transfer {
                finish(transfer, multi: multi, with: .failure(cancellation(of: transfer, "the task was cancelled")))
            }

            var running: Int32 = 0
            _ = refit_curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = refit_curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                if let transfer = active[easy] {
                    finish(transfer, multi: multi, with: transfer.outcome(of: code))
                }
            }
            // Waits for socket activity, libcurl's next timeout, or a wakeup from submit/cancel/stop.
            _ = refit_curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func finish(_ transfer: CurlTransfer, multi: UnsafeMutableRawPointer?,
                        with result: Result<HTTPResponse, HTTPError>) {
        if let multi, active.removeValue(forKey: transfer.easy) != nil {
            _ = refit_curl_multi_remove_handle(multi, transfer.easy)
        }
        lock.lock()
        let continuation = transfer.continuation
        transfer.continuation = nil
        lock.unlock()
        switch result {
        case .success(let response): continuation?.resume(returning: response)
        case .failure(let error): continuation?.resume(throwing: error)
        }
    }

    private func cancellation(of transfer: CurlTransfer, _ reason: String) -> HTTPError {
        HTTPError(code: .cancelled, method: transfer.request.method, url: transfer.redaction.url(transfer.request.url),
                  isRetryable: false, detail: reason)
    }
}
