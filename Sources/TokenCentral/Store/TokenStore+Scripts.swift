import RedisClient

extension TokenStore {
    /// Writes a fetched token, its metadata and TTL in one step, fenced by issue order.
    ///
    /// WeChat keeps the token it issued *last* and invalidates the previous one after a short overlap,
    /// so the rule is "the last issued wins", not "the lease holder wins": a holder paused past its
    /// lease may wake up holding a token issued after the one in Redis. Each token carries the window
    /// of Redis time in which it was issued (`issued_min..issued_max`, see `RedisTimeSample`):
    /// - windows disjoint and ours later → write, generation + 1, publish on `P:refreshed`;
    /// - ours entirely earlier → refuse (`older`): the stored token is newer;
    /// - windows overlap → nobody can tell which WeChat issued last (a fetch was paused or slow past
    ///   its lease while another ran). Refuse and mark the app `refresh_requested`, so one more fetch,
    ///   certainly the last issued, replaces both. The stored token stays valid for the overlap.
    /// - the same token again (stable_token normal mode, WeCom, a re-seed) → refresh the key's TTL
    ///   (to the later of the two expiries), keep the generation, and set `retry_at` (ARGV[13]): `expiry` for WeCom, which hands out the
    ///   same token until it expires; `halfway` for stable_token, which renews only in the last minutes
    ///   of a token, so asking again halfway to expiry lands in that window instead of after expiry.
    ///   A standing forced refresh (`forced_at`) is answered by either: a new token, or the same one
    ///   again, which is all upstream will hand out until it renews it.
    /// ARGV[9] is the lowest generation the token may get: a worker passes one more than the highest it
    /// has seen, so `generation` keeps rising even after Redis lost the meta hash (restart, FLUSHALL).
    /// ARGV[10] is `reseed` when a worker puts back a token from its memory, `fetch` otherwise.
    /// ARGV[11], when not 0, is the instant after which one more fetch is needed: the previous lease
    /// holder died mid-call, and WeChat may issue it a token up to then (see `refreshNotBefore`).
    /// ARGV[12] is the lease of the fetch being written: its `fetch_lease` announcement is cleared.
    /// ARGV[13] `first_seen` writes a ticket (KEYS are then the ticket's key and meta): `getticket` hands
    /// out the same ticket while it lives and always says `expires_in: 7200`, so the same ticket again
    /// keeps the expiry of when it was first seen (`expires_at` = `issued_min` + lifetime, the earliest
    /// it can expire), and `renews_at_expiry` notes that upstream gives no new one before, so later
    /// tickets are asked for at expiry rather than ahead. `retry_at` is then the instant by which
    /// upstream has certainly retired it, `issued_max` + lifetime (+1): one window's width after the key
    /// expired, a round trip. Past that too (upstream still hands it out), ask again in a second, bounded.
    /// The answer clears a recorded failure (it succeeded).
    /// ARGV[14] is the ticket type, added to the `P:refreshed` announcement; '' for the token (payload unchanged).
    static let writeScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local token = ARGV[1]
        local issued_min, issued_max, lifetime = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local minimum, reseed = tonumber(ARGV[9]), ARGV[10] == 'reseed'
        local not_before, lease, same_retry, ticket = tonumber(ARGV[11]), ARGV[12], ARGV[13], ARGV[14]
        if lease ~= '' and redis.call('HGET', KEYS[2], 'fetch_lease') == lease then
          redis.call('HDEL', KEYS[2], 'fetch_lease', 'fetch_started')
        end
        local expires_at = issued_min + lifetime
        if expires_at <= now then return {'expired', 0, expires_at} end
        local current = redis.call('HMGET', KEYS[2], 'token', 'issued_min', 'issued_max', 'generation', 'expires_at', 'expires_in')
        local generation = tonumber(current[4]) or 0
        if current[1] == token and same_retry == 'first_seen' then
          local first = tonumber(current[5]) or 0
          if first > now then redis.call('SET', KEYS[1], token, 'PX', first - now) end
          if not reseed then
            local retired = (tonumber(current[3]) or 0) + (tonumber(current[6]) or 0) * 1000 + 1
            redis.call('HSET', KEYS[2], 'retry_at', retired > now and retired or now + 1000)
            redis.call('HDEL', KEYS[2], 'error', 'errcode', 'error_kind', 'error_at', 'failures')
            if first > now then redis.call('HSET', KEYS[2], 'renews_at_expiry', 1) end
            redis.call('HDEL', KEYS[2], 'forced_at')
          end
          return {'same', generation, first}
        end
        if current[1] == token then
          -- Both expiries are safe lower bounds; the stored one did not lose the fraction of a second
          -- that WeChat's whole-second expires_in drops when it hands the same token out again.
          expires_at = math.max(expires_at, tonumber(current[5]) or 0)
          redis.call('SET', KEYS[1], token, 'PX', expires_at - now)
          redis.call('HSET', KEYS[2], 'expires_at', expires_at)
          if not reseed then
            local retry_at = expires_at
            if same_retry == 'halfway' then
              retry_at = math.min(expires_at, now + math.max(1000, math.floor((expires_at - now) / 2)))
            end
            redis.call('HSET', KEYS[2], 'retry_at', retry_at)
            -- Upstream hands out this token until it renews it: a standing forced refresh got its answer.
            redis.call('HDEL', KEYS[2], 'forced_at')
          end
          return {'same', generation, expires_at}
        end
        if current[1] then
          local stored_min, stored_max = tonumber(current[2]) or 0, tonumber(current[3]) or 0
          if issued_max < stored_min then return {'older', generation, 0} end
          if issued_min <= stored_max then
            redis.call('HSET', KEYS[2], 'refresh_requested', 'issue-order-unknown')
            return {'ambiguous', generation, 0}
          end
        end
        generation = math.max(generation + 1, minimum)
        redis.call('SET', KEYS[1], token, 'PX', expires_at - now)
        redis.call('HSET', KEYS[2], 'token', token, 'expires_at', expires_at, 'fetched_at', issued_max,
          'generation', generation, 'worker', ARGV[5], 'grant', ARGV[6], 'expires_in', math.floor(lifetime / 1000),
          'issued_min', issued_min, 'issued_max', issued_max)
        redis.call('HDEL', KEYS[2], 'error', 'errcode', 'error_kind', 'error_at', 'retry_at', 'failures', 'refresh_requested',
          'refresh_not_before', 'forced_at')
        if not_before > 0 then
          redis.call('HSET', KEYS[2], 'refresh_requested', 'abandoned-fetch', 'refresh_not_before', not_before)
        end
        if ticket == '' then
          redis.call('PUBLISH', ARGV[7], string.format('{"appid":%s,"generation":%d,"expires_at":%d}',
            cjson.encode(ARGV[8]), generation, expires_at))
        else
          redis.call('PUBLISH', ARGV[7], string.format('{"appid":%s,"ticket":%s,"generation":%d,"expires_at":%d}',
            cjson.encode(ARGV[8]), cjson.encode(ticket), generation, expires_at))
        end
        return {'written', generation, expires_at}
        """
    )

    /// Records an upstream failure for every worker to see: the message, the errcode, its kind, and `retry_at`
    /// (Redis time + ARGV[3] ms) before which no worker calls upstream for this app again. Clears the
    /// failed call's `fetch_lease` announcement (ARGV[5] is its lease). A standing forced refresh
    /// (`forced_at`) survives a transient failure, to be carried out at `retry_at`; any other kind
    /// withdraws it as refused (`forced_refused = upstream_refusing`): forcing would fail the same way.
    static let failureScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        if redis.call('HGET', KEYS[1], 'fetch_lease') == ARGV[5] then
          redis.call('HDEL', KEYS[1], 'fetch_lease', 'fetch_started')
        end
        redis.call('HSET', KEYS[1], 'error', ARGV[1], 'errcode', ARGV[2], 'error_at', now,
          'retry_at', now + tonumber(ARGV[3]), 'error_kind', ARGV[4])
        if ARGV[4] ~= 'transient' and redis.call('HDEL', KEYS[1], 'forced_at') == 1 then
          redis.call('HSET', KEYS[1], 'forced_refused', 'upstream_refusing', 'forced_refused_at', now,
            'forced_refused_until', now + tonumber(ARGV[3]))
        end
        return redis.call('HINCRBY', KEYS[1], 'failures', 1)
        """
    )

    /// Extends the lease only if this worker still owns it (compare-and-pexpire).
    static let renewScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """
    )

    /// Deletes the lease only if this worker still owns it (compare-and-delete): a lease that expired
    /// and was taken by another worker must not be released by the late former owner.
    static let releaseScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """
    )
}
