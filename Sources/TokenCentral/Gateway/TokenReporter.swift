import RedisClient

/// Reports a rejected token the way every report goes (`TokenRefresher.requestForcedRefresh`, the same
/// path as a `P:refresh` message, so deduplication and any forced-refresh budget apply) and waits,
/// bounded, for the token that replaces it.
struct TokenReporter: Sendable {
    let store: TokenStore
    let refresher: TokenRefresher

    /// Reports `badToken` without waiting; false for an app this worker does not serve. The one place the
    /// WeChat-compatible endpoints and the gateway hand a report to the refresher.
    @discardableResult
    func report(appid: String, badToken: String) -> Bool {
        refresher.requestForcedRefresh(appid: appid, badToken: badToken)
    }

    /// The current token once it differs from `badToken`, or nil if none came within `wait` (the report
    /// was refused, upstream is failing, or the app is unknown). Polls Redis rather than listening to
    /// this worker's refresher, so a token written by another worker ends the wait just as well.
    func reportAndAwaitReplacement(appid: String, badToken: String, wait: Duration) async throws(RedisError)
        -> (token: String, millisecondsLeft: Int)?
    {
        guard report(appid: appid, badToken: badToken) else { return nil }
        let deadline = ContinuousClock.now + wait
        while true {
            if let current = try await store.readableToken(appid), current.token != badToken { return current }
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(20))) != nil else { return nil }
        }
    }
}
