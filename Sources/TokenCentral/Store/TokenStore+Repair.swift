import RedisClient

/// Repairs of state in Redis that workers did not write, or that a clock step made wrong.
/// Every one is a compare-and-set on what the worker read, so workers that find the same fault repair it once.
extension TokenStore {
    /// Gives a lease key without a TTL the lease TTL, so a lease nobody renews frees itself; true when it
    /// did. The key is not deleted: if a worker does hold it, it keeps the usual time to finish.
    public func repairLockWithoutTTL(_ appid: String, ttl: Duration) async throws(RedisError) -> Bool {
        try await redis.evaluate(Self.lockTTLScript, keys: [keys.lock(appid)], arguments: [max(ttl.milliseconds, 1)]).integer == 1
    }

    /// Moves the stored token's times back by a step of the Redis clock, if meta still holds `token` with
    /// `expiresAt` as this worker read it before the step (so each step is applied once, by whichever worker
    /// comes first); true when it did. The key's own expiry moves with it, and the key goes if that
    /// expiry has passed: readers never get a token WeChat has retired.
    public func shiftTimes(appid: String, token: String, expiresAt: Int64, by step: ClockShift) async throws(RedisError) -> Bool {
        try await redis.evaluate(
            Self.shiftScript, keys: [keys.accessToken(appid), keys.meta(appid)], arguments: [token, expiresAt, step.lower, step.upper]
        ).integer == 1
    }

    /// Clamps meta fields no worker could have written (see `StoredStateCheck.implausible`), if meta still
    /// holds `token`; returns how many fields it changed.
    public func clampImplausible(appid: String, token: String?, check: StoredStateCheck) async throws(RedisError) -> Int {
        try await redis.evaluate(
            Self.clampScript, keys: [keys.accessToken(appid), keys.meta(appid)],
            arguments: [token ?? "", check.lifetimeCapMillis, check.retryCapMillis, StoredStateCheck.toleranceMillis]
        ).integer ?? 0
    }

    static let lockTTLScript = RedisScript(
        """
        if redis.call('PTTL', KEYS[1]) == -1 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          return 1
        end
        return 0
        """
    )

    /// ARGV: token, expires_at as read before the step, the step's lower and upper bound (ms). Each time
    /// moves by the bound that keeps decisions safe: expiries and issue starts by the upper one (the token
    /// dies no later, and looks issued no later, than it truly was), issue ends, `retry_at` and the rest by
    /// the lower one (no wait ends early, no fetch looks later than it truly was).
    static let shiftScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local stored = redis.call('HMGET', KEYS[2], 'token', 'expires_at')
        if stored[1] ~= ARGV[1] or tonumber(stored[2]) ~= tonumber(ARGV[2]) then return 0 end
        local lower, upper = tonumber(ARGV[3]), tonumber(ARGV[4])
        local function shift(field, by)
          local value = tonumber(redis.call('HGET', KEYS[2], field))
          if value then redis.call('HSET', KEYS[2], field, value - by) end
        end
        shift('expires_at', upper)
        shift('issued_min', upper)
        for _, field in ipairs({'issued_max', 'fetched_at', 'retry_at', 'refresh_not_before', 'fetch_started', 'error_at'}) do
          shift(field, lower)
        end
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          local expires_at = tonumber(ARGV[2]) - upper
          if expires_at <= now then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], expires_at - now) end
        end
        return 1
        """
    )

    /// ARGV: the token checked ('' for none), the lifetime cap, the `retry_at` cap, the tolerance (ms).
    /// An issue window in the future becomes "issued by now" (the token exists, so it was), which lets the
    /// next fetch be certainly later instead of refused; an expiry more than a lifetime away becomes one
    /// lifetime from now, the key's TTL with it.
    static let clampScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local cap, retry_cap, tolerance = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local m = redis.call('HMGET', KEYS[2], 'token', 'issued_min', 'issued_max', 'fetched_at', 'expires_in', 'expires_at',
          'retry_at', 'refresh_not_before')
        local changed = 0
        local function set(field, value)
          redis.call('HSET', KEYS[2], field, value)
          changed = changed + 1
        end
        if m[1] and m[1] == ARGV[1] then
          local issued_min, issued_max = tonumber(m[2]), tonumber(m[3])
          if issued_max and issued_max > now + tolerance then
            issued_max = now
            set('issued_max', now)
          end
          if issued_min and issued_max and issued_min > issued_max then set('issued_min', issued_max) end
          local fetched = tonumber(m[4])
          if fetched and fetched > now + tolerance then set('fetched_at', now) end
          local lifetime = (tonumber(m[5]) or 0) * 1000
          if lifetime > cap then
            lifetime = cap
            set('expires_in', math.floor(cap / 1000))
          end
          if lifetime <= 0 then lifetime = cap end
          local expires_at = tonumber(m[6])
          if expires_at and expires_at > now + tolerance + lifetime then
            expires_at = now + lifetime
            set('expires_at', expires_at)
            if redis.call('GET', KEYS[1]) == m[1] then redis.call('PEXPIRE', KEYS[1], lifetime) end
          end
        end
        local retry_at = tonumber(m[7])
        if retry_at and retry_at > now + retry_cap then set('retry_at', now + retry_cap) end
        local not_before = tonumber(m[8])
        if not_before and not_before > now + retry_cap then set('refresh_not_before', now + retry_cap) end
        return changed
        """
    )
}
