import RedisClient

extension RedisPermissionCheck {
    /// What a worker keeping `ticket` of `appid` sends besides the token's commands (`tokend(keys:appid:)`):
    /// the same command shapes on the ticket's own keys (`P:{APPID}:jsapi_ticket`, its `:meta`, `:lock`,
    /// `:forced`). A user granted only the token's key patterns would otherwise store tokens and fail
    /// at its first ticket write.
    public static func tickets(keys: TokenKeys, appid: String, ticket: TicketType) -> RedisPermissionCheck {
        let value = keys.value(appid, ticket)
        let meta = keys.meta(appid, ticket)
        let lock = keys.lock(appid, ticket)
        let forced = keys.forcedCooldown(appid, ticket)
        let probes: [[String]] = [
            ["GET", value], ["PTTL", value], ["HGETALL", meta], ["SET", lock, "x", "NX", "PX", "1"], ["EXISTS", forced],
            ["SET", value, "x", "PX", "1"], ["HSET", meta, "x", "1"], ["HDEL", meta, "x"], ["HMGET", meta, "token"],
            ["HINCRBY", meta, "failures", "1"], ["GET", lock], ["PEXPIRE", lock, "1"], ["DEL", lock], ["SET", forced, "x", "PX", "1"],
        ]
        let scripts: [Probe] = [.evalsha(keys: [value, meta]), .evalsha(keys: [meta]), .evalsha(keys: [meta, forced]), .evalsha(keys: [lock])]
        return RedisPermissionCheck(probes: probes.map { Probe($0) } + scripts)
    }
}
