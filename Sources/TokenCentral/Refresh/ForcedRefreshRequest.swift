/// A business server's report that the current token was rejected (40001/42001), or an operator's request.
public struct ForcedRefreshRequest: Sendable, Hashable {
    /// The token WeChat rejected. With it, the refresh happens only while that token is still current,
    /// so any number of identical reports cause one upstream call. Without it, a cooldown applies.
    public var badToken: String?

    public init(badToken: String?) {
        self.badToken = badToken
    }
}
