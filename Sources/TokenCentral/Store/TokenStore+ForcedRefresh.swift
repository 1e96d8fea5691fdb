import RedisClient

/// The Redis state behind the limits on forced refreshes, shared by all workers.
extension TokenStore {
    /// Whether a forced refresh without `bad_token` was honoured for `appid` within the cooldown
    /// (`P:{APPID}:forced` exists): the refresher declines the next one, so the HTTP API answers at once
    /// instead of waiting out its deadline for a token that will not come.
    func forcedCooldownActive(_ appid: String) async throws(RedisError) -> Bool {
        try await redis.send("EXISTS", keys.forcedCooldown(appid)).integer == 1
    }

    /// Claims the cooldown for a forced refresh without `bad_token`: true for the first claim per
    /// `cooldown` across all workers, false within it.
    func claimForcedCooldown(_ appid: String, worker: String, cooldown: Duration) async throws(RedisError) -> Bool {
        try await redis.send("SET", keys.forcedCooldown(appid), worker, "NX", "PX", max(cooldown.milliseconds, 1)) == .status("OK")
    }

    /// Counts one `force_refresh:true` call against the app's daily allowance (per Beijing day, as WeChat
    /// counts); false when `limit` is already used up. Count and expiry are set in one script, so the
    /// day's counter can never be left without its expiry.
    func takeStableForceAllowance(_ appid: String, nowMillis: Int64, limit: Int) async throws(RedisError) -> Bool {
        let day = (nowMillis + 8 * 3_600_000) / 86_400_000
        let count = try await redis.evaluate(
            Self.countWithExpiryScript, keys: [keys.stableForceCount(appid, day: "\(day)")], arguments: [2 * 86_400_000]
        ).integer ?? .max
        return count <= limit
    }

    static let countWithExpiryScript = RedisScript(
        """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return count
        """
    )
}
