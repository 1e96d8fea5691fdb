import Synchronization

/// `POST .../refresh` requests (and gateway retries) waiting for a new token, woken by the `P:refreshed`
/// announcements this worker's subscription hears (whichever worker wrote the token), and by this worker
/// withdrawing a forced refresh, instead of each one polling Redis.
///
/// The failure it prevents: a thousand clients reporting one rejected token used to issue a thousand
/// Redis reads every 20 ms for up to `upstream.timeout` + 2 s. Now each waiter reads Redis once per
/// announcement of its app, and at most `limit` wait at once: past that, callers are told to come back
/// (503 with `Retry-After`) rather than piling up suspended requests.
final class RefreshWaiters: Sendable {
    /// Enough for every business server of a large deployment reporting at once; each waiter costs one
    /// suspended request and one Redis read per announcement.
    static let defaultLimit = 256

    private struct State {
        var admitted = 0
        /// Announcements heard per app: a waiter waits for the count to pass what it saw before reading Redis.
        var announcements: [String: UInt64] = [:]
        var waiting: [Int: (appid: String, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextID = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int = RefreshWaiters.defaultLimit) {
        self.limit = limit
    }

    /// Takes a place among the waiters; false past `limit`. Each `true` is paired with `release()`.
    func admit() -> Bool {
        state.withLock { state in
            guard state.admitted < limit else { return false }
            state.admitted += 1
            return true
        }
    }

    func release() {
        state.withLock { $0.admitted -= 1 }
    }

    /// How many announcements of `appid` were heard so far; read it before reading Redis, then wait for more.
    func announcements(of appid: String) -> UInt64 {
        state.withLock { $0.announcements[appid, default: 0] }
    }

    /// A new token of `appid` was announced: wakes every request waiting for one.
    func announce(_ appid: String) {
        let woken = state.withLock { state in
            state.announcements[appid, default: 0] += 1
            let ids = state.waiting.filter { $0.value.appid == appid }.map(\.key)
            return ids.compactMap { state.waiting.removeValue(forKey: $0)?.continuation }
        }
        for continuation in woken { continuation.resume() }
    }

    /// Waits until `appid` has had more than `seen` announcements (true) or `deadline` passes (false).
    func waitForAnnouncement(of appid: String, after seen: UInt64, until deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.nextAnnouncement(of: appid, after: seen)
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    private func nextAnnouncement(of appid: String, after seen: UInt64) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Registered under the lock that `announce` and the cancellation take, so neither can slip by.
                let resumeNow = state.withLock { state in
                    if Task.isCancelled || state.announcements[appid, default: 0] > seen { return true }
                    state.waiting[id] = (appid, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: id) }?.continuation.resume()
        }
    }
}
