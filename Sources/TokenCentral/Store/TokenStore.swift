import RedisClient

/// The Redis side of the contract: reads and fenced writes of tokens, upstream failures, and leases.
public struct TokenStore: Sendable {
    public let redis: RedisClient
    public let keys: TokenKeys

    public init(redis: RedisClient, keys: TokenKeys) {
        self.redis = redis
        self.keys = keys
    }

    /// What Redis knows about an app, read in one round trip together with the Redis clock.
    public struct Snapshot: Sendable, Hashable {
        public var status: AppStatus
        /// What readers get from `P:{APPID}:access_token`; nil when it is gone while meta may remain
        /// (expired, flushed).
        public var keyToken: String?
        public var time: RedisTimeSample
    }

    /// - Parameter ticket: read that ticket's key and meta instead of the token's (same fields).
    public func snapshot(_ appid: String, ticket: TicketType? = nil) async throws(RedisError) -> Snapshot {
        let (replies, sentAt, receivedAt) = try await redis.timedPipeline([
            RedisCommand("TIME"),
            RedisCommand("GET", keys.value(appid, ticket)),
            RedisCommand("HGETALL", keys.meta(appid, ticket)),
        ])
        // The key before meta: a write landing in between then shows a newer meta than key, which the
        // write-back of the remembered token (the same one) repairs harmlessly, never the reverse.
        return Snapshot(
            status: AppStatus(fields: replies[2].hashFields ?? [:]),
            keyToken: replies[1].string,
            time: RedisTimeSample(redisMillis: try Self.millis(replies[0], redis: redis), sentAt: sentAt, receivedAt: receivedAt)
        )
    }

    /// The token business servers read (`P:{APPID}:access_token`) and the milliseconds it has left, in
    /// one pipelined round trip (`GET` + `PTTL`); nil when there is none.
    public func readableToken(_ appid: String) async throws(RedisError) -> (token: String, millisecondsLeft: Int)? {
        try await readable(keys.accessToken(appid)).map { (token: $0.value, millisecondsLeft: $0.millisecondsLeft) }
    }

    /// A raw value key as readers read it (a token or a ticket) and the milliseconds it has left, in one
    /// pipelined round trip (`GET` + `PTTL`); nil when there is none.
    func readable(_ key: String) async throws(RedisError) -> (value: String, millisecondsLeft: Int)? {
        let replies = try await redis.pipeline([RedisCommand("GET", key), RedisCommand("PTTL", key)])
        guard let value = replies[0].string, !value.isEmpty, let left = replies[1].integer, left > 0 else { return nil }
        return (value, left)
    }

    /// Reads the Redis clock alone.
    public func time() async throws(RedisError) -> RedisTimeSample {
        let (replies, sentAt, receivedAt) = try await redis.timedPipeline([RedisCommand("TIME")])
        return RedisTimeSample(redisMillis: try Self.millis(replies[0], redis: redis), sentAt: sentAt, receivedAt: receivedAt)
    }

    /// Stores a token through the fenced write script (see `writeScript`).
    /// - Parameters:
    ///   - minimumGeneration: the lowest generation the token may be stored with (one more than the
    ///     highest this worker has seen; for a re-seed, the token's own generation).
    ///   - reseed: the token comes from a worker's memory after Redis lost it, not from upstream.
    ///   - lease: the lease the token was fetched under; its `fetch_lease` announcement is cleared.
    ///   - refreshNotBefore: when set, one more fetch is requested once this instant has passed.
    ///   - ticket: store that ticket (its own key and meta) instead of the token; the same ticket again
    ///     keeps its first-seen expiry (see `writeScript`).
    public func write(
        appid: String, token: String, issued: ClosedRange<Int64>, lifetimeMillis: Int64, worker: String, grant: Grant,
        minimumGeneration: Int = 1, reseed: Bool = false, lease: RefreshLease? = nil, refreshNotBefore: Int64? = nil,
        ticket: TicketType? = nil
    ) async throws(RedisError) -> WriteOutcome {
        let sameAnswer = ticket != nil ? "first_seen" : grant == .stableToken ? "halfway" : "expiry"
        let reply = try await redis.evaluate(
            Self.writeScript,
            keys: [keys.value(appid, ticket), keys.meta(appid, ticket)],
            arguments: [
                token, Int64(issued.lowerBound), Int64(issued.upperBound), lifetimeMillis, worker, grant.rawValue,
                keys.refreshedChannel, appid, minimumGeneration, reseed ? "reseed" : "fetch",
                refreshNotBefore ?? 0, lease?.value ?? "", sameAnswer, ticket?.rawValue ?? "",
            ]
        )
        guard let parts = reply.array, parts.count == 3, let status = parts[0].string,
            let generation = parts[1].integer, let expiresAt = parts[2].integer
        else {
            throw RedisError(.unexpectedReply, "token write script returned \(reply)", endpoint: redis.endpoint.description)
        }
        switch status {
        case "written": return .written(generation: generation, expiresAt: Int64(expiresAt))
        case "same": return .same(generation: generation, expiresAt: Int64(expiresAt))
        case "older": return .older(storedGeneration: generation)
        case "ambiguous": return .ambiguous(storedGeneration: generation)
        default: return .expired
        }
    }

    /// Records an upstream failure in meta (of the token, or of `ticket`); returns the number of
    /// consecutive failures.
    @discardableResult
    public func recordFailure(_ error: UpstreamError, retryAfter: Duration, lease: RefreshLease, ticket: TicketType? = nil)
        async throws(RedisError) -> Int
    {
        let reply = try await redis.evaluate(
            Self.failureScript,
            keys: [keys.meta(error.appid, ticket)],
            arguments: [
                error.description, error.errcode.map(String.init) ?? "", max(retryAfter.milliseconds, 1), error.kindLabel, lease.value,
            ]
        )
        return reply.integer ?? 0
    }

    /// Announces the upstream call about to be made under `lease` (see `AppStatus.fetchInProgress`).
    public func announceFetch(_ lease: RefreshLease, startedAt: Int64) async throws(RedisError) {
        try await redis.send("HSET", keys.meta(lease.appid), "fetch_lease", lease.value, "fetch_started", startedAt)
    }

    /// Tries to take the refresh lease (`SET NX PX`) of the token, or of `ticket`; nil when another
    /// worker holds it.
    public func acquireLease(appid: String, worker: String, ttl: Duration, ticket: TicketType? = nil) async throws(RedisError) -> RefreshLease? {
        let lease = RefreshLease(
            appid: appid,
            key: keys.lock(appid, ticket),
            value: "\(worker):\(UInt64.random(in: 0...UInt64.max))",
            ttl: ttl
        )
        let reply = try await redis.send("SET", lease.key, lease.value, "NX", "PX", max(ttl.milliseconds, 1))
        return reply == .status("OK") ? lease : nil
    }

    /// Extends the lease by its TTL; false when it was lost (expired and possibly taken by another worker).
    public func renew(_ lease: RefreshLease) async throws(RedisError) -> Bool {
        try await redis.evaluate(Self.renewScript, keys: [lease.key], arguments: [lease.value, max(lease.ttl.milliseconds, 1)])
            .integer == 1
    }

    public func release(_ lease: RefreshLease) async throws(RedisError) {
        _ = try await redis.evaluate(Self.releaseScript, keys: [lease.key], arguments: [lease.value])
    }

    static func millis(_ reply: RedisReply, redis: RedisClient) throws(RedisError) -> Int64 {
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].integer, let micros = parts[1].integer else {
            throw RedisError(.unexpectedReply, "TIME returned \(reply)", endpoint: redis.endpoint.description)
        }
        return Int64(seconds) * 1000 + Int64(micros) / 1000
    }
}
