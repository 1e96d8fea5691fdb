import DequeModule
import RedisClient
import Synchronization

/// Bounds the upstream calls one worker has in flight, across all its apps.
///
/// An app's refresher takes a permit *before* it takes the app's lease, so a worker never holds more
/// leases than it can serve. Without the bound, 10,000 apps coming due together would each take a
/// lease and then queue for one of HTTP client's few connections to WeChat; a lease that outlives
/// its TTL in that queue is taken over by another worker, and the app is fetched twice. With it, the
/// apps this worker cannot serve yet stay unleased and the other workers take them.
final class FetchPermits: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: UnsafeContinuation<Bool, Never>
    }

    private struct State {
        var available: Int
        var waiters: Deque<Waiter> = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>
    /// How many upstream calls may be in flight at once.
    let limit: Int

    init(limit: Int) {
        precondition(limit > 0, "at least one upstream call must be allowed")
        self.limit = limit
        state = Mutex(State(available: limit))
    }

    /// Permits free now, and tasks waiting for one.
    var counts: (available: Int, waiting: Int) {
        state.withLock { ($0.available, $0.waiters.count) }
    }

    /// Runs `body` holding a permit, waiting first for one to be free (first come, first served).
    /// Returns nil without running `body` when the task is cancelled while it waits (shutdown).
    func withPermit<Result>(_ body: () async throws(RedisError) -> Result) async throws(RedisError) -> Result? {
        guard await acquire() else { return nil }
        defer { release() }
        return try await body()
    }

    private func acquire() async -> Bool {
        if Task.isCancelled { return false }
        let (granted, id) = state.withLock { state -> (Bool, UInt64) in
            defer { state.nextID += 1 }
            guard state.available > 0 else { return (false, state.nextID) }
            state.available -= 1
            return (true, state.nextID)
        }
        if granted { return true }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                let immediate = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if state.available > 0 {
                        state.available -= 1
                        return true
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    private func release() {
        let next = state.withLock { state -> Waiter? in
            if let next = state.waiters.popFirst() { return next }
            state.available += 1
            return nil
        }
        next?.continuation.resume(returning: true)
    }
}
