import CoreMetrics
import RedisClient

/// The deployment-wide bound on upstream calls per second, shared by every worker through Redis.
///
/// Without it, 10,000 apps coming due together (a first start, a Redis flush, a refresh round) reach
/// WeChat as one burst of over 2,000 calls in a second from a few IPs, the pattern its risk control
/// watches for. Every upstream call first reserves a slot (one `EVALSHA` on `P:upstream_rate`, see
/// docs/redis-contract.md): slots are evenly spaced on the Redis clock, the one clock all workers
/// share, with a small burst allowed (`script`), and the caller sleeps until its slot. That keeps every
/// second, however it is cut (WeChat's count need not start where Redis's seconds do), at `limit` calls
/// or fewer; slots counted per calendar second let the last moments of one second and the first of the
/// next hold twice the limit between them.
///
/// One slot per round trip: an `EVALSHA` costs a fraction of a millisecond next to the upstream call it
/// admits. A slot reserved by a worker that dies before using it is one call fewer, never one more.
public struct UpstreamRateLimit: Sendable {
    /// Why no slot was granted.
    public enum Refusal: Error, Sendable, Hashable {
        /// The next free slot is further away than `maxWait`: the calls already waiting fill the wait.
        case waitExceeded
        /// Redis did not answer: no slot can be counted, so none is granted (see `acquire()`).
        case redisUnavailable(String)
        /// The task was cancelled while it waited (shutdown).
        case cancelled
    }

    /// How long a worker's call may wait for its slot. While the deployment makes fewer calls at once than
    /// the limit (`upstream.max_concurrent_calls` per worker is 8), every call gets a slot within a
    /// second; longer, the app's lease would be held by a call that is not made.
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

    /// A slot: its instant on the Redis clock (Unix milliseconds), and whether the caller waited for it.
    public struct Grant: Sendable, Hashable {
        public var slotMillis: Int64
        public var waited: Bool
    }

    /// Reserves the next slot and sleeps until it; refused when it is more than `maxWait` away.
    ///
    /// When Redis does not answer, the call is refused rather than made uncounted: no worker could
    /// write the token it fetched anyway (the lease and the fenced write live in the same Redis), and
    /// every worker making uncounted calls during an outage is the burst this limit exists to prevent.
    /// The refresher treats the refusal as a transient failure and retries with backoff.
    public func acquire() async throws(Refusal) -> Grant {
        if Task.isCancelled { throw .cancelled }
        let slot: Slot
        do {
            slot = try Slot(try await redis.evaluate(Self.script, keys: [key], arguments: [limit, maxWait.milliseconds]), from: redis)
        } catch {
            metrics.redisUnavailable.increment()
            throw .redisUnavailable(error.description)
        }
        guard case .granted(let slotMillis, let waitMillis) = slot else {
            metrics.refused.increment()
            throw .waitExceeded
        }
        guard waitMillis > 0 else { return Grant(slotMillis: slotMillis, waited: false) }
        metrics.waited.increment()
        do {
            try await Task.sleep(for: .milliseconds(waitMillis))
        } catch {
            throw .cancelled
        }
        return Grant(slotMillis: slotMillis, waited: true)
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

    /// The script's answer: a slot at `slotMillis` (Redis Unix ms), `waitMillis` from now, or none
    /// within the caller's wait.
    enum Slot: Hashable {
        case granted(slotMillis: Int64, waitMillis: Int64)
        case full

        init(_ reply: RedisReply, from redis: RedisClient) throws(RedisError) {
            guard let parts = reply.array, parts.count == 3, let granted = parts[0].integer,
                let slot = parts[1].integer, let wait = parts[2].integer
            else {
                throw RedisError(.unexpectedReply, "the upstream rate script answered \(reply)", endpoint: redis.endpoint.description)
            }
            self = granted == 1 ? .granted(slotMillis: Int64(slot), waitMillis: Int64(max(wait, 0))) : .full
        }
    }

    /// KEYS[1] = `P:upstream_rate`; ARGV[1] = the limit, ARGV[2] = the longest wait in ms. A generic cell
    /// rate algorithm on the Redis clock: `tat` (Unix ms, fractional) is the theoretical arrival time of
    /// the next call; slots are `spacing` apart, and a burst of `burst` calls may share an instant
    /// (`tolerance`). Any span shorter than a second then holds at most `1000 / spacing + burst - 1` =
    /// `limit` slots: the burst lets the few calls that come due together (each worker's concurrent
    /// fetches) go at once instead of queueing two milliseconds apart, for a sustained rate 5% under the
    /// limit. `tat` is kept to the microsecond, rounded up, so rounding never brings slots closer.
    /// Answers `{1, slot, wait}` (the slot's ms and the ms until it), or `{0, 0, 0}` when the slot is
    /// further than the wait. `second` and `calls` count the slots of the latest slot's second,
    /// for people and benchmarks (`HGETALL`). A `tat` further ahead than any wait could have put it
    /// means the Redis clock stepped back: slots start again from now. The hash expires a few seconds
    /// after the last slot, so an idle deployment keeps nothing.
    static let script = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
        local limit, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2])
        local burst = math.max(1, math.floor(limit / 20))
        local spacing = 1000 / (limit - burst + 1)
        local tolerance = (burst - 1) * spacing
        local state = redis.call('HMGET', KEYS[1], 'tat', 'second', 'calls')
        local tat = tonumber(state[1]) or now
        if tat < now or tat > now + max_wait + tolerance + spacing then tat = now end
        local slot = math.max(now, tat - tolerance)
        if slot - now > max_wait then return {0, 0, 0} end
        local second = math.floor(slot / 1000)
        local calls = 1
        if tonumber(state[2]) == second then calls = (tonumber(state[3]) or 0) + 1 end
        local next_tat = math.ceil((tat + spacing) * 1000) / 1000
        redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', next_tat), 'second', second, 'calls', calls)
        redis.call('PEXPIRE', KEYS[1], max_wait + 5000)
        return {1, math.floor(slot), math.ceil(slot - now)}
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
