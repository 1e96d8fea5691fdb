import Logging
import RedisClient

/// What every app's refresher in one worker shares.
struct RefreshContext: Sendable {
    var workerID: String
    var store: TokenStore
    /// `WeChatUpstream` in production; a scripted fetcher in tests.
    var upstream: any TokenFetcher
    var schedule: RefreshSchedule
    var failurePolicy: FailurePolicy
    /// The app-wide limits on forced refreshes (`ForcedRefreshBudget`).
    var forcedBudget: ForcedRefreshBudget
    var stableForceDailyLimit: Int
    /// `refresh.check_interval`: how soon a worker that still remembers a token re-seeds a flushed Redis.
    var checkInterval: Duration
    /// Shared by every app of this worker: bounds its upstream calls in flight.
    var fetchPermits: FetchPermits
    var metrics: TokenMetrics
    /// HTTP refresh requests waiting on this worker: woken by `P:refreshed`, and by this worker when it
    /// withdraws a forced refresh (a refusal announces nothing on the channel).
    var refreshWaiters = RefreshWaiters()
    /// The tokens the HTTP API serves from memory: told of every announcement and (re)subscription.
    var tokenView = TokenView()
    var logger: Logger
    /// Backoff between attempts while Redis is unreachable.
    var redisBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
    /// Every Redis clock reading of this worker goes through it, to notice the clock jumping.
    var clock = RedisClockMonitor()

    /// The plausibility limits for what apps read from Redis.
    var stateCheck: StoredStateCheck { StoredStateCheck(failurePolicy: failurePolicy) }

    /// How long an app waits after the fence refused its token (`RefusedWrites`): the upstream backoff.
    var refusalBackoff: Backoff {
        Backoff(initial: failurePolicy.retryInitial, maximum: max(failurePolicy.retryMaximum, failurePolicy.retryInitial))
    }
}
