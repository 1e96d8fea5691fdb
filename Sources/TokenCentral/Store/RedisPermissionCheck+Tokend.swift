import RedisClient

extension RedisPermissionCheck {
    /// Every command shape a `tokend` worker sends (`TokenStore`, its scripts, the `P:refresh` and
    /// `P:refreshed` subscription, the client's `SCRIPT LOAD`), with the keys of `appid`. The
    /// `tokend` line of docs/redis-contract.md grants exactly these.
    public static func tokend(keys: TokenKeys, appid: String) -> RedisPermissionCheck {
        let token = keys.accessToken(appid)
        let meta = keys.meta(appid)
        let lock = keys.lock(appid)
        let forced = keys.forcedCooldown(appid)
        let stableForce = keys.stableForceCount(appid, day: "0")
        let rate = keys.upstreamRate
        let probes: [[String]] = [
            // Sent directly.
            ["TIME"], ["HGETALL", meta], ["EXISTS", token], ["GET", token], ["PTTL", token],
            ["HSET", meta, "fetch_lease", "x", "fetch_started", "0"],
            ["SET", lock, "x", "NX", "PX", "1"], ["SET", forced, "x", "NX", "PX", "1"], ["EXISTS", forced],
            ["SCRIPT", "LOAD", "return 0"],
            ["SUBSCRIBE", keys.refreshedChannel], ["SUBSCRIBE", keys.refreshChannel],
            ["UNSUBSCRIBE", keys.refreshedChannel, keys.refreshChannel],
            // Sent by the scripts (TokenStore+Scripts.swift, +ForcedRefresh.swift, +Repair.swift).
            ["HGET", meta, "fetch_lease"], ["HMGET", meta, "token"], ["HDEL", meta, "fetch_lease"],
            ["SET", token, "x", "PX", "1"], ["HINCRBY", meta, "failures", "1"],
            ["PUBLISH", keys.refreshedChannel, "x"],
            ["GET", lock], ["PEXPIRE", lock, "1"], ["DEL", lock], ["PTTL", lock],
            ["HMGET", meta, "generation", "forced_at"],
            ["INCR", stableForce], ["PEXPIRE", stableForce, "1"], ["SET", stableForce, "1", "PX", "1"],
            ["HMGET", rate, "second", "calls"], ["HSET", rate, "second", "0", "calls", "0"], ["PEXPIRE", rate, "1"],
        ]
        let scripts: [Probe] = [
            .evalsha(keys: [token, meta]),  // the fenced write
            .evalsha(keys: [meta]),  // an upstream failure, a withdrawn forced refresh
            .evalsha(keys: [meta, forced]),  // a forced refresh accepted within the budget
            .evalsha(keys: [lock]),  // lease renew and release
            .evalsha(keys: [stableForce]),  // the stable_token force counter
            .evalsha(keys: [stableForce, meta]),  // a spent stable_token force allowance
            .evalsha(keys: [rate]),  // a slot of the upstream rate limit (UpstreamRateLimit)
        ]
        return RedisPermissionCheck(probes: probes.map { Probe($0) } + scripts)
    }
}
