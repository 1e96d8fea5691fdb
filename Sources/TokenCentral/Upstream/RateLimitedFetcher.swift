/// An upstream (`TokenFetcher` or `TicketFetcher`) that takes a slot of the deployment-wide rate limit
/// before each call, so token and ticket calls of every worker share `upstream.rate_limit`.
///
/// The refresher calls its fetcher inside the region where the app's lease is renewed, so a call
/// waiting here for a slot keeps its lease; the wait is bounded by `rateLimit.maxWait` all the same,
/// so the app is not held by one worker while others would have a slot.
struct RateLimitedFetcher<Upstream: Sendable>: Sendable {
    let upstream: Upstream
    let rateLimit: UpstreamRateLimit

    /// Waits for a slot; the failure to report instead of calling when none was given.
    /// - Parameter restamp: whether the app's announced fetch start moves to the end of a wait.
    private func takeSlot(appid: String, endpoint: String, restamp: Bool) async -> UpstreamError? {
        do {
            if try await rateLimit.acquire().waited, restamp {
                try await rateLimit.restampAnnouncedFetch(appid: appid)
            }
            return nil
        } catch {
            return refusal(error, appid: appid, endpoint: endpoint)
        }
    }

    /// A refused slot is a transient failure: no call was made, and one can be made shortly.
    private func refusal(_ refusal: UpstreamRateLimit.Refusal, appid: String, endpoint: String) -> UpstreamError {
        let (reason, hint): (String, String) = switch refusal {
        case .waitExceeded:
            ("no slot of upstream.rate_limit (\(rateLimit.limit)/s) within \(rateLimit.maxWait)",
             "the deployment's upstream calls are at their limit; retrying with backoff (raise upstream.rate_limit if this persists)")
        case .redisUnavailable(let error):
            ("the upstream rate limit could not be checked in Redis (\(error))",
             "no upstream call is made uncounted; retrying with backoff until Redis answers")
        case .cancelled:
            ("cancelled while waiting for a slot of upstream.rate_limit", "the worker is shutting down")
        }
        return UpstreamError(kind: .transient, appid: appid, endpoint: endpoint, errcode: nil, errmsg: reason, hint: hint)
    }
}

extension RateLimitedFetcher: TokenFetcher where Upstream == any TokenFetcher {
    /// The call's own bound: after a wait for a slot, the call's announced start is moved to the end of
    /// the wait (`UpstreamRateLimit.restampAnnouncedFetch`), so the wait needs no allowance here.
    var timeout: Duration { upstream.timeout }

    func fetch(_ app: AppConfiguration, forceRefresh: Bool) async -> Result<FetchedToken, UpstreamError> {
        let endpoint = WeChatUpstream.endpointPath(app.grant)
        if let refused = await takeSlot(appid: app.appid, endpoint: endpoint, restamp: true) {
            return .failure(refused)
        }
        return await upstream.fetch(app, forceRefresh: forceRefresh)
    }
}

extension RateLimitedFetcher: TicketFetcher where Upstream == any TicketFetcher {
    var timeout: Duration { upstream.timeout }

    /// Ticket calls announce no fetch in meta (a ticket call that WeChat answers late returns the same
    /// ticket), so there is no start to move after a wait.
    func fetchTicket(_ type: TicketType, appid: String, accessToken: String) async -> Result<FetchedToken, UpstreamError> {
        if let refused = await takeSlot(appid: appid, endpoint: WeChatUpstream.ticketEndpoint, restamp: false) {
            return .failure(refused)
        }
        return await upstream.fetchTicket(type, appid: appid, accessToken: accessToken)
    }
}
