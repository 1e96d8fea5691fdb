/// A `TokenFetcher` that takes a slot of the deployment-wide rate limit before each call of `upstream`.
///
/// The refresher calls its fetcher inside the region where the app's lease is renewed, so a call
/// waiting here for a slot keeps its lease; the wait is bounded by `rateLimit.maxWait` all the same,
/// so the app is not held by one worker while others would have a slot.
struct RateLimitedFetcher: TokenFetcher {
    let upstream: any TokenFetcher
    let rateLimit: UpstreamRateLimit

    /// The call's own bound: after a wait for a slot, the call's announced start is moved to the end of
    /// the wait (`UpstreamRateLimit.restampAnnouncedFetch`), so the wait needs no allowance here.
    var timeout: Duration { upstream.timeout }

    func fetch(_ app: AppConfiguration, forceRefresh: Bool) async -> Result<FetchedToken, UpstreamError> {
        do {
            if try await rateLimit.acquire().waited {
                try await rateLimit.restampAnnouncedFetch(appid: app.appid)
            }
        } catch {
            return .failure(refusal(error, app: app))
        }
        return await upstream.fetch(app, forceRefresh: forceRefresh)
    }

    /// A refused slot is a transient failure: no call was made, and one can be made shortly.
    private func refusal(_ refusal: UpstreamRateLimit.Refusal, app: AppConfiguration) -> UpstreamError {
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
        return UpstreamError(kind: .transient, appid: app.appid, endpoint: WeChatUpstream.endpointPath(app.grant), errcode: nil,
                             errmsg: reason, hint: hint)
    }
}
