import RedisClient

/// The watchdog's read of every app, in Redis: one script call per batch of apps returns only the apps
/// that need a look, so an idle worker reads and parses a few bytes per tick instead of three replies
/// per app (at 10,000 apps, 30,000 replies every check interval).
extension TokenStore {
    /// What the watchdog asks about one app: its id, and the generation and last characters of the valid
    /// token this worker remembers (0 and empty: none, so only a missing key counts). The tail tells two
    /// tokens of one generation apart (one written to a primary that lost it, one stored since) without
    /// sending whole tokens to Redis every tick.
    public struct WatchedApp: Sendable, Hashable {
        public var appid: String
        public var generation: Int
        public var tokenTail: Substring

        public init(appid: String, generation: Int = 0, token: String? = nil) {
            self.appid = appid
            self.generation = generation
            tokenTail = token?.suffix(Self.tailLength) ?? ""
        }

        static let tailLength = 8
    }

    /// Why an app needs attention (`watch`).
    public struct WatchFinding: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// Readers would not get the token this worker knows: the key is gone, differs from meta's token,
        /// or from the remembered one in generation or tail (a restore, failover or hand edit; or a newer
        /// token whose announcement was lost). A pass re-reads and writes back or remembers.
        public static let tokenDiffers = WatchFinding(rawValue: 1)
        /// `P:{APPID}:lock` exists without a TTL: no worker wrote it so, and it would block the app forever.
        public static let lockWithoutTTL = WatchFinding(rawValue: 2)
        /// `forced_at` is set in meta: a forced refresh stands, perhaps accepted by a worker that died since.
        public static let forcedRefreshStanding = WatchFinding(rawValue: 4)
    }

    /// Apps per script call: large enough that a tick is a few round trips, small enough that one call
    /// blocks Redis for a millisecond or two, not longer.
    static let watchBatch = 500

    /// The apps of `apps` that need attention, as (index into `apps`, findings); the others cost no reply.
    public func watch(_ apps: [WatchedApp]) async throws(RedisError) -> [(index: Int, findings: WatchFinding)] {
        var found: [(index: Int, findings: WatchFinding)] = []
        var start = 0
        while start < apps.count {
            let batch = apps[start..<min(start + Self.watchBatch, apps.count)]
            var arguments: [any RedisArgument] = [keys.prefix]
            arguments.reserveCapacity(1 + 3 * batch.count)
            for app in batch {
                arguments.append(app.appid)
                arguments.append(app.generation)
                arguments.append(app.tokenTail)
            }
            let reply = try await redis.evaluate(Self.watchScript, arguments: arguments).array ?? []
            var pair = 0
            while pair + 1 < reply.count {
                if let index = reply[pair].integer, let flags = reply[pair + 1].integer {
                    found.append((start + index, WatchFinding(rawValue: flags)))
                }
                pair += 2
            }
            start += batch.count
        }
        return found
    }

    /// ARGV: the key prefix, then per app its appid, remembered generation (0: none) and token tail. Returns a flat
    /// list of (0-based position, findings bits) for the apps with findings only. The key names are built
    /// here as `TokenKeys` builds them (one hash tag per app); the whole deployment is one Redis node.
    static let watchScript = RedisScript(
        """
        local prefix = ARGV[1]
        local found = {}
        for i = 2, #ARGV, 3 do
          local base = prefix .. ':{' .. ARGV[i] .. '}:'
          local expected, tail = tonumber(ARGV[i + 1]), ARGV[i + 2]
          local key = redis.call('GET', base .. 'access_token')
          local meta = redis.call('HMGET', base .. 'meta', 'token', 'generation', 'forced_at')
          local flags = 0
          if not key or key ~= meta[1] then
            flags = 1
          elseif expected > 0 and (tonumber(meta[2]) ~= expected or string.sub(key, -#tail) ~= tail) then
            flags = 1
          end
          if redis.call('PTTL', base .. 'lock') == -1 then flags = flags + 2 end
          if meta[3] then flags = flags + 4 end
          if flags > 0 then
            found[#found + 1] = (i - 2) / 3
            found[#found + 1] = flags
          end
        end
        return found
        """
    )
}
