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
    /// next boundary at the latest; a longer wait would only delay the re-fetch after an abandoned call,
    /// which must allow for it (see `RateLimitedFetcher.timeout`).
    public static let maxWait: Duration = .seconds(2)

    let redis: RedisClient
    let key: String
    /// Calls per second across the deployment (`upstream.rate_limit`).
    public let limit: Int
    /// Longest a call waits for a slot; reported as part of the decorated fetcher's timeout.
    public let maxWait: Duration
    let metrics: UpstreamRateLimitMetrics

    public init(redis: RedisClient, keys: TokenKeys, limit: Int, maxWait: Duration, metrics: UpstreamRateLimitMetrics) {
        precondition(limit > 0, "at least one upstream call per second must be allowed")
        self.redis = redis
        self.key = keys.upstreamRate
        self.limit = limit
        self.maxWait = maxWait
        self.metrics = metrics
    }

    /// Takes a slot for one upstream call, waiting for a later second while the current one is full.
    /// Returns the Redis second (Unix seconds) the slot belongs to.
    ///
    /// When Redis does not answer, the call is refused rather than made uncounted: no worker could
    /// write the token it fetched anyway (the lease and the fenced write live in the same Redis), and
    /// every worker making uncounted calls during an outage is the burst this limit exists to prevent.
    /// The refresher treats the refusal as a transient failure and retries with backoff.
    @discardableResult
    public func acquire() async throws(Refusal) -> Int64 {
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
                return second
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
