/// What the refresher needs from upstream: one token call, and how long such a call may take.
///
/// The seam tests control: the refresher's races (a call that fails once, one that blocks until a
/// lease is lost) are driven by a scripted fetcher in tests, deterministically, while the store stays
/// the real Redis. `WeChatUpstream` is the one production implementation.
public protocol TokenFetcher: Sendable {
    /// Longest a call may take: it bounds how long WeChat may still issue a token to a call a dead
    /// lease holder abandoned (see `AppRefresher.abandonedCallDeadline`).
    var timeout: Duration { get }

    /// Fetches a token for `app`. `forceRefresh` only matters for stable_token apps (`force_refresh:true`).
    /// Every failure is a classified `UpstreamError`, never a throw: the refresher schedules around it.
    func fetch(_ app: AppConfiguration, forceRefresh: Bool) async -> Result<FetchedToken, UpstreamError>
}

extension WeChatUpstream: TokenFetcher {
    public var timeout: Duration { settings.timeout }
}
