import RedisClient

/// Reports a rejected token the way every report goes (`TokenRefresher.forceRefresh`, the same rules as
/// a `P:refresh` message, so deduplication and the forced-refresh budget apply) and waits, bounded, for
/// the token that replaces it.
struct TokenReporter: Sendable {
    let store: TokenStore
    let refresher: TokenRefresher

    /// Reports `badToken` without waiting for its replacement: what the budget made of it, nil for an
    /// app this worker does not serve. The one place the WeChat-compatible endpoints and the gateway
    /// hand a report to the refresher.
    @discardableResult
    func report(appid: String, badToken: String) async throws(RedisError) -> ForcedRefreshVerdict? {
        try await refresher.forceRefresh(appid: appid, badToken: badToken)
    }

    /// The current token once it differs from `badToken`, or nil if none came within `wait`, the report
    /// was refused (budget, or upstream refusing the app) or the app is unknown. Re-reads Redis at each
    /// `P:refreshed` announcement of the app (whichever worker wrote the token), and at least once a
    /// second in case an announcement was lost.
    func reportAndAwaitReplacement(appid: String, badToken: String, wait: Duration) async throws(RedisError)
        -> (token: String, millisecondsLeft: Int)?
    {
        let waiters = refresher.refreshWaiters
        var seen = waiters.announcements(of: appid)
        switch try await report(appid: appid, badToken: badToken) {
        case nil, .refused: return nil
        case .stale, .standing, .accepted, .cooldown: break
        }
        let deadline = ContinuousClock.now + wait
        while true {
            if let current = try await store.readableToken(appid), current.token != badToken { return current }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return nil }
            if await waiters.waitForAnnouncement(of: appid, after: seen, until: min(deadline, .now + .seconds(1))) {
                seen = waiters.announcements(of: appid)
            }
        }
    }
}
