import RedisClient

/// The Redis state behind forced refreshes and their limits, shared by all workers.
extension TokenStore {
    /// Puts a forced refresh to Redis, atomically for all workers (see `acceptScript`): refused when
    /// the reported token is stale, a request for it already stands, or the cooldown or the budget
    /// refuses it; otherwise recorded as `forced_at` in meta, where it stands until a newer token is
    /// written, whichever worker fetches it and however many attempts that takes. With `ticket`, the
    /// same for that ticket (`badToken` is then the reported ticket), in its own meta and budget.
    func acceptForcedRefresh(_ appid: String, badToken: String?, budget: ForcedRefreshBudget, worker: String, ticket: TicketType? = nil)
        async throws(RedisError) -> ForcedRefreshVerdict
    {
        let reply = try await redis.evaluate(
            Self.acceptScript, keys: [keys.meta(appid, ticket), keys.forcedCooldown(appid, ticket)],
            arguments: [
                badToken ?? "", budget.minimumTokenAge.milliseconds, budget.hourly, budget.daily,
                max(budget.cooldown.milliseconds, 1), worker,
            ])
        guard let parts = reply.array, let status = parts.first?.string, let at = parts.dropFirst().first?.integer else {
            throw RedisError(.unexpectedReply, "forced refresh script returned \(reply)", endpoint: redis.endpoint.description)
        }
        switch status {
        case "stale": return .stale
        case "standing": return .standing(since: Int64(at))
        case "accepted": return .accepted(since: Int64(at))
        case "cooldown": return .cooldown
        default:
            guard parts.count == 4, let reason = parts[2].string.flatMap(ForcedRefreshRefusal.Reason.init(rawValue:)) else {
                throw RedisError(.unexpectedReply, "forced refresh script returned \(reply)", endpoint: redis.endpoint.description)
            }
            return .refused(ForcedRefreshRefusal(reason: reason, until: Int64(at), firstInPeriod: parts[3].integer == 1))
        }
    }

    /// Withdraws the standing forced refresh of `appid` (`forced_at`) with the reason it cannot be
    /// carried out, for `tokenctl status` and HTTP callers to see.
    func dropForcedRefresh(_ appid: String, reason: ForcedRefreshRefusal.Reason, until: Int64) async throws(RedisError) {
        _ = try await redis.evaluate(Self.dropScript, keys: [keys.meta(appid)], arguments: [reason.rawValue, until])
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
    /// uses up today's allowance, so no worker forces again today, clears the call's `fetch_lease`
    /// announcement, and withdraws the standing forced refresh (refused until Beijing midnight). Unlike other failures this sets no `retry_at`: normal-mode calls have their own quota.
    func exhaustStableForceAllowance(_ appid: String, nowMillis: Int64, limit: Int, lease: RefreshLease) async throws(RedisError) {
        _ = try await redis.evaluate(
            Self.exhaustScript, keys: [keys.stableForceCount(appid, day: Self.beijingDay(nowMillis)), keys.meta(appid)],
            arguments: [limit, 2 * 86_400_000, lease.value, nowMillis + FailurePolicy.millisUntilQuotaReset(nowMillis: nowMillis)])
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
        if redis.call('HDEL', KEYS[2], 'forced_at') == 1 then
          local t = redis.call('TIME')
          redis.call('HSET', KEYS[2], 'forced_refused', 'stable_force_limit', 'forced_refused_until', ARGV[4],
            'forced_refused_at', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
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

    /// KEYS[1] meta, KEYS[2] the cooldown key. ARGV: [1] the reported token ('' for a request without
    /// one), [2] minimum token age ms, [3] hourly budget, [4] daily budget, [5] cooldown ms, [6] worker.
    ///
    /// In order: a report of a token other than the stored one is `stale`; a request while one stands
    /// (`forced_at`) is `standing` and costs nothing; a request without token within the cooldown is
    /// `cooldown`; then the budget (token age, the day's count, the hour's count) may refuse it, which
    /// is recorded in `forced_refused*` with `first` = 1 only for the first refusal of its period (the
    /// token's generation, the hour, the day), so workers warn once per period between them; otherwise
    /// it is counted and stands as `forced_at` = now. The budget counts live in meta (`forced_hour`,
    /// `forced_hour_count`, `forced_day`, `forced_day_count`) and start again when the hour or the
    /// Beijing day changes.
    static let acceptScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local m = redis.call('HMGET', KEYS[1], 'token', 'issued_max', 'forced_at', 'forced_hour', 'forced_hour_count',
          'forced_day', 'forced_day_count', 'forced_refused_period', 'generation')
        local token, bad = m[1], ARGV[1]
        if not token or (bad ~= '' and token ~= bad) then return {'stale', 0} end
        if m[3] then return {'standing', tonumber(m[3])} end
        if bad == '' and redis.call('EXISTS', KEYS[2]) == 1 then return {'cooldown', 0} end
        local hour = math.floor(now / 3600000)
        local day = math.floor((now + 28800000) / 86400000)
        local hour_count = m[4] == tostring(hour) and tonumber(m[5]) or 0
        local day_count = m[6] == tostring(day) and tonumber(m[7]) or 0
        local reason, period, until_at
        local issued = tonumber(m[2]) or 0
        if now - issued < tonumber(ARGV[2]) then
          reason, period, until_at = 'min_token_age', 'token:' .. (m[9] or ''), issued + tonumber(ARGV[2])
        elseif day_count >= tonumber(ARGV[4]) then
          reason, period, until_at = 'daily_budget', 'day:' .. day, (day + 1) * 86400000 - 28800000
        elseif hour_count >= tonumber(ARGV[3]) then
          reason, period, until_at = 'hourly_budget', 'hour:' .. hour, (hour + 1) * 3600000
        end
        if reason then
          local first = m[8] ~= period and 1 or 0
          redis.call('HSET', KEYS[1], 'forced_refused', reason, 'forced_refused_at', now, 'forced_refused_until', until_at,
            'forced_refused_period', period)
          return {'refused', until_at, reason, first}
        end
        if bad == '' then redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[5]) end
        redis.call('HSET', KEYS[1], 'forced_at', now, 'forced_hour', hour, 'forced_hour_count', hour_count + 1,
          'forced_day', day, 'forced_day_count', day_count + 1)
        return {'accepted', now}
        """
    )

    /// KEYS[1] meta; ARGV[1] the refusal reason, ARGV[2] until when. Withdraws `forced_at`, if any.
    static let dropScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        if redis.call('HDEL', KEYS[1], 'forced_at') == 1 then
          redis.call('HSET', KEYS[1], 'forced_refused', ARGV[1], 'forced_refused_at', now, 'forced_refused_until', ARGV[2])
        end
        """
    )
}
