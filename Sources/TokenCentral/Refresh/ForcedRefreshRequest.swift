/// A business server's report that the current token was rejected (40001/42001), or an operator's request.
public struct ForcedRefreshRequest: Sendable, Hashable {
    /// The token WeChat rejected. With it, the refresh happens only while that token is still current,
    /// so any number of identical reports cause one upstream call. Without it, a cooldown applies.
    public var badToken: String?
    /// When the request reached this worker, for the latency metric.
    public var receivedAt: ContinuousClock.Instant
    /// A request without `bad_token` that claimed the app's cooldown, now naming the token current at that
    /// moment: it must not be lost to a lease another worker happens to hold (no other request can get
    /// through the cooldown), so it waits for the lease instead (see `AppRefresher.refreshUnderLease`).
    var claimedCooldown = false

    public init(badToken: String?, receivedAt: ContinuousClock.Instant = .now) {
        self.badToken = badToken
        self.receivedAt = receivedAt
    }
}
