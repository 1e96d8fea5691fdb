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
        let count = try await redis.evaluate(
            Self.countWithExpiryScript, keys: [keys.stableForceCount(appid, day: Self.beijingDay(nowMillis))], arguments: [2 * 86_400_000]
        ).integer ?? .max
        return count <= limit
    }

    /// WeChat refused a `force_refresh:true` call for quota (its own daily count ran out before ours):
    /// uses up today's allowance, so no worker forces again today, and clears the call's `fetch_lease`
    /// announcement. Unlike other failures this sets no `retry_at`: normal-mode calls have their own quota.
    func exhaustStableForceAllowance(_ appid: String, nowMillis: Int64, limit: Int, lease: RefreshLease) async throws(RedisError) {
        _ = try await redis.evaluate(
            Self.exhaustScript, keys: [keys.stableForceCount(appid, day: Self.beijingDay(nowMillis)), keys.meta(appid)],
            arguments: [limit, 2 * 86_400_000, lease.value])
    }

    /// Days since the epoch in Beijing time (UTC+8), as WeChat counts its daily limits.
    private static func beijingDay(_ nowMillis: Int64) -> String {
        "\((nowMillis + 8 * 3_600_000) / 86_400_000)"
    }

    static let exhaustScript = RedisScript(
        """
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        if redis.call('HGET', KEYS[2], 'fetch_lease') == ARGV[3] then
          redis.call('HDEL', KEYS[2], 'fetch_lease', 'fetch_started')
        end
        """
    )

    static let countWithExpiryScript = RedisScript(
        """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return count
        """
    )
}
