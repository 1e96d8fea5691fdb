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
        /// At most 8 characters: Swift keeps such a string inline, so a tick allocates nothing for it.
        public var tokenTail: String

        public init(appid: String, generation: Int = 0, token: String? = nil) {
            self.appid = appid
            self.generation = generation
            tokenTail = token.map { String($0.suffix(Self.tailLength)) } ?? ""
        }

        static let tailLength = 8

        /// The script's argument for this app, `appid generation tail`, built in one allocation: an
        /// appid (`RefreshMessage.isAppID`) holds no space, and the tail is the rest of the argument.
        var scriptArgument: [UInt8] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(appid.utf8.count + Self.tailLength + 22)
            bytes.append(contentsOf: appid.utf8)
            bytes.append(UInt8(ascii: " "))
            bytes.append(contentsOf: String(generation).utf8)
            bytes.append(UInt8(ascii: " "))
            bytes.append(contentsOf: tokenTail.utf8)
            return bytes
        }
    }

    /// Why an app needs attention (`watch`).
    public struct WatchFinding: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// Readers would not get the token this worker knows: the key is gone while meta or memory holds a
        /// token, differs from meta's token, or from the remembered one in generation or tail (a restore, failover or hand edit; or a newer
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
            arguments.reserveCapacity(1 + batch.count)
            for app in batch { arguments.append(app.scriptArgument) }
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

    /// ARGV: the key prefix, then per app one `appid generation tail` (generation 0: none remembered; one
    /// argument per app rather than three keeps the worker's side of a tick to one allocation an app). Returns a flat
    /// list of (0-based position, findings bits) for the apps with findings only.
    ///
    /// An app with no token in key or meta and none remembered is no finding: its pass already fetches when
    /// due, and waking it cannot re-seed anything. Flagging it woke every app of a first fill at every tick
    /// (100,000 extra passes per worker each check interval). The key names are built
    /// here as `TokenKeys` builds them (one hash tag per app); the whole deployment is one Redis node.
    static let watchScript = RedisScript(
        """
        local prefix = ARGV[1]
        local found = {}
        for i = 2, #ARGV do
          local appid, generation, tail = string.match(ARGV[i], '^(%S+) (%d+) (.*)$')
          local base = prefix .. ':{' .. appid .. '}:'
          local expected = tonumber(generation)
          local key = redis.call('GET', base .. 'access_token')
          local meta = redis.call('HMGET', base .. 'meta', 'token', 'generation', 'forced_at')
          local flags = 0
          if key ~= meta[1] then
            flags = 1
          elseif expected > 0 and (tonumber(meta[2]) ~= expected or string.sub(key, -#tail) ~= tail) then
            flags = 1
          end
          if redis.call('PTTL', base .. 'lock') == -1 then flags = flags + 2 end
          if meta[3] then flags = flags + 4 end
          if flags > 0 then
            found[#found + 1] = i - 2
            found[#found + 1] = flags
          end
        end
        return found
        """
    )
}
