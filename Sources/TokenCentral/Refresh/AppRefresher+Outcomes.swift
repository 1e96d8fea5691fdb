import CoreMetrics
import Logging
import RedisClient
import Synchronization

extension AppRefresher {
    /// Logs and counts what the fenced write did with a fetched token.
    func record(_ outcome: WriteOutcome, of write: FetchedWrite, loop: inout LoopState) {
        switch outcome {
        case .written(let generation, _):
            loop.loggedError = nil
            logger.info("token refreshed", metadata: [
                LogKey.generation: "\(generation)", LogKey.expiresIn: "\(write.fetched.expiresIn)", LogKey.reason: "\(write.reason.rawValue)",
            ])
            if write.refreshNotBefore != nil {
                logger.notice("the previous lease holder abandoned its upstream call; fetching once more after it would have timed out")
            }
        case .same(let generation, _):
            logger.debug("upstream returned the current token again; asking again later",
                         metadata: [LogKey.generation: "\(generation)"])
        case .older, .ambiguous, .expired:
            // Logged once per streak of refusals by `noteWriteOutcome`, which also backs off.
            break
        }
    }

    /// Records an upstream failure in meta, where every worker honours its `retry_at`, and logs it: a
    /// refusal a person must act on once at error level (WeChat adds a request id to each `errmsg`, so
    /// repeats are told by kind and errcode), its repeats at debug.
    func recordFailure(_ error: UpstreamError, lease: RefreshLease, status: AppStatus, nowMillis: Int64, loop: inout LoopState)
        async throws(RedisError)
    {
        metrics.upstreamCall(result: error.kindLabel)
        if let errcode = error.errcode { metrics.errcode(errcode) }
        let ahead = remembered.map { context.schedule.effectiveAhead(lifetimeMillis: $0.lifetime) }
        let delay = context.failurePolicy.retryDelay(for: error.kind, errcode: error.errcode, failures: status.failures,
                                                     nowMillis: nowMillis, effectiveAheadMillis: ahead)
        try await context.store.recordFailure(error, retryAfter: delay, lease: lease)
        // Any failure but a transient one withdrew a standing forced refresh: its HTTP callers learn why now.
        if error.kind != .transient { context.refreshWaiters.announce(app.appid) }
        let metadata: Logger.Metadata = [
            LogKey.errorKind: "\(error.kindLabel)", LogKey.errcode: "\(error.errcode.map(String.init) ?? "-")",
            LogKey.endpoint: "\(error.endpoint)", LogKey.retryIn: "\(delay)", LogKey.error: "\(error.errmsg)",
        ]
        let refusal = "\(error.kindLabel) \(error.errcode.map(String.init) ?? "-")"
        if error.kind == .transient {
            logger.warning("upstream call failed; keeping the current token", metadata: metadata)
        } else if loop.loggedError != refusal {
            loop.loggedError = refusal
            logger.error("upstream refused the token request: \(error.hint)", metadata: metadata)
        } else {
            logger.debug("upstream refused the token request again", metadata: metadata)
        }
    }

    /// WeChat's own daily count of `force_refresh:true` calls ran out before `refresh.stable_force_daily_limit`:
    /// no worker forces again today, while the normal refreshes (a quota of their own) go on.
    func refuseForcesForToday(_ error: UpstreamError, lease: RefreshLease, nowMillis: Int64) async throws(RedisError) {
        metrics.upstreamCall(result: error.kindLabel)
        if let errcode = error.errcode { metrics.errcode(errcode) }
        try await context.store.exhaustStableForceAllowance(app.appid, nowMillis: nowMillis, limit: context.stableForceDailyLimit,
                                                            lease: lease)
        context.refreshWaiters.announce(app.appid)
        logger.error("forced refresh refused by WeChat: its force_refresh daily limit is used up; normal refreshes go on",
                     metadata: [LogKey.errcode: "\(error.errcode.map(String.init) ?? "-")", LogKey.error: "\(error.errmsg)"])
    }
}
