import CoreMetrics
import RedisClient

/// The deployment-wide bound on upstream calls per second, shared by every worker through Redis.
///
/// Without it, 10,000 apps coming due together (a first start, a Redis flush, a refresh round) reach
/// WeChat as one burst of over 2,000 calls in a second from a few IPs, the pattern its risk control
/// watches for. Every upstream call first takes a slot of the current Redis-clock second (one
/// `EVALSHA` on `P:upstream_rate`, see docs/redis-contract.md); when the second's slots are taken, the
/// caller waits for the next second, at most `maxWait`. The Redis clock is the one clock all workers
/// share, so the busiest second counted by Redis never holds more than `limit` calls, however many
/// workers there are.
///
/// One slot per round trip: an `EVALSHA` costs a fraction of a millisecond next to the upstream call it
/// admits, and reserving slots ahead would let a worker hold slots of a second that has already ended.
public struct UpstreamRateLimit: Sendable {
    /// Why no slot was granted.
    public enum Refusal: Error, Sendable, Hashable {
        /// Every slot of each second until `maxWait` ran out was taken by other calls.
        case waitExceeded
        /// Redis did not answer: no slot can be counted, so none is granted (see `acquire()`).
        case redisUnavailable(String)
        /// The task was cancelled while it waited (shutdown).
        case cancelled
    }

    /// How long a worker's call waits for a slot: two second boundaries, so a call that lost the race
    /// for one second's last slots gets another chance. While the deployment makes fewer calls at once
    /// than the limit (`upstream.max_concurrent_calls` per worker is 8), every call gets a slot at the
    /// next boundary at the latest; longer, the app's lease would be held by a call that is not made.
    public static let maxWait: Duration = .seconds(2)

    let redis: RedisClient
    let keys: TokenKeys
    let key: String
    /// Calls per second across the deployment (`upstream.rate_limit`).
    public let limit: Int
    /// Longest a call waits for a slot (`UpstreamRateLimit.maxWait` in production; tests shorten it).
    public let maxWait: Duration
    let metrics: UpstreamRateLimitMetrics

    public init(redis: RedisClient, keys: TokenKeys, limit: Int, maxWait: Duration, metrics: UpstreamRateLimitMetrics) {
        precondition(limit > 0, "at least one upstream call per second must be allowed")
        self.redis = redis
        self.keys = keys
        self.key = keys.upstreamRate
        self.limit = limit
        self.maxWait = maxWait
        self.metrics = metrics
    }

    /// A slot: the Redis second (Unix seconds) it belongs to, and whether the caller had to wait for it.
    public struct Grant: Sendable, Hashable {
        public var second: Int64
        public var waited: Bool
    }

    /// Takes a slot for one upstream call, waiting for a later second while the current one is full.
    ///
    /// When Redis does not answer, the call is refused rather than made uncounted: no worker could
    /// write the token it fetched anyway (the lease and the fenced write live in the same Redis), and
    /// every worker making uncounted calls during an outage is the burst this limit exists to prevent.
    /// The refresher treats the refusal as a transient failure and retries with backoff.
    public func acquire() async throws(Refusal) -> Grant {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: maxWait)
        var waited = false
        while true {
            if Task.isCancelled { throw .cancelled }
            let slot: Slot
            do {
                slot = try Slot(try await redis.evaluate(Self.script, keys: [key], arguments: [limit]), from: redis)
            } catch {
                metrics.redisUnavailable.increment()
                throw .redisUnavailable(error.description)
            }
            switch slot {
            case .granted(let second):
                if waited { metrics.waited.increment() }
                return Grant(second: second, waited: waited)
            case .full(let millisecondsToNextSecond):
                let wake = clock.now.advanced(by: .milliseconds(millisecondsToNextSecond))
                guard wake < deadline else {
                    metrics.refused.increment()
                    throw .waitExceeded
                }
                waited = true
                do {
                    try await clock.sleep(until: wake)
                } catch {
                    throw .cancelled
                }
            }
        }
    }

    /// Moves the announced start of `appid`'s upstream call (`fetch_started` in meta) to now, after a wait
    /// for a slot: a lease holder that dies during the call leaves the announcement behind, and the
    /// worker taking over allows for a call that reaches WeChat up to `upstream.timeout` after it
    /// (`AppRefresher.abandonedCallDeadline`). The refresher announces the call before this wait; the
    /// call itself starts only now. The new start is later than any announced before it, so a re-stamp
    /// that lands on another worker's announcement (this lease lost meanwhile) makes that allowance
    /// longer, never shorter.
    public func restampAnnouncedFetch(appid: String) async throws(Refusal) {
        do {
            _ = try await redis.evaluate(Self.restampScript, keys: [keys.meta(appid)])
        } catch {
            metrics.redisUnavailable.increment()
            throw .redisUnavailable(error.description)
        }
    }

    /// KEYS[1] = `P:{APPID}:meta`: `fetch_started` = the Redis time, when a fetch is announced (`fetch_lease`).
    static let restampScript = RedisScript(
        """
        if not redis.call('HGET', KEYS[1], 'fetch_lease') then return 0 end
        local t = redis.call('TIME')
        redis.call('HSET', KEYS[1], 'fetch_started', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
        return 1
        """
    )

    /// The script's answer: a slot of `second`, or the milliseconds until the next second begins.
    enum Slot: Hashable {
        case granted(second: Int64)
        case full(millisecondsToNextSecond: Int64)

        init(_ reply: RedisReply, from redis: RedisClient) throws(RedisError) {
            guard let parts = reply.array, parts.count == 2, let granted = parts[0].integer, let value = parts[1].integer else {
                throw RedisError(.unexpectedReply, "the upstream rate script answered \(reply)", endpoint: redis.endpoint.description)
            }
            self = granted == 1 ? .granted(second: Int64(value)) : .full(millisecondsToNextSecond: Int64(max(value, 1)))
        }
    }

    /// KEYS[1] = `P:upstream_rate`, a hash of the current window: `second` (Redis Unix seconds) and
    /// `calls` granted in it. ARGV[1] = the limit. Answers `{1, second}` for a slot, or `{0, ms}` with the
    /// milliseconds until the next second when this one is full. The hash expires five seconds after its
    /// last slot, so an idle deployment keeps nothing.
    static let script = RedisScript(
        """
        local t = redis.call('TIME')
        local second, limit = tonumber(t[1]), tonumber(ARGV[1])
        local window = redis.call('HMGET', KEYS[1], 'second', 'calls')
        local calls = 0
        if tonumber(window[1]) == second then calls = tonumber(window[2]) or 0 end
        if calls >= limit then
          return {0, 1000 - math.floor(tonumber(t[2]) / 1000)}
        end
        redis.call('HSET', KEYS[1], 'second', second, 'calls', calls + 1)
        redis.call('PEXPIRE', KEYS[1], 5000)
        return {1, second}
        """
    )
}

/// The rate limit's worker-wide counters (`tokencentral_upstream_rate_limited_total`, see `TokenMetrics`).
public struct UpstreamRateLimitMetrics: Sendable {
    /// Calls that got a slot after waiting for a later second.
    let waited: Counter
    /// Calls refused: no slot within the wait bound.
    let refused: Counter
    /// Calls refused: Redis did not answer.
    let redisUnavailable: Counter

    public init(factory: any MetricsFactory) {
        let name = "tokencentral_upstream_rate_limited_total"
        waited = Counter(label: name, dimensions: [("outcome", "waited")], factory: factory)
        refused = Counter(label: name, dimensions: [("outcome", "refused")], factory: factory)
        redisUnavailable = Counter(label: name, dimensions: [("outcome", "redis_unavailable")], factory: factory)
    }
}
