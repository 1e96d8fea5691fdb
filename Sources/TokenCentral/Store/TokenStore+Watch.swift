import RedisClient

/// The watchdog's read of every app, in Redis: one script call per batch of apps returns only the apps
/// that need a look, so an idle worker reads and parses a few bytes per tick instead of three replies
/// per app (at 10,000 apps, 30,000 replies every check interval).
extension TokenStore {
    /// What the watchdog asks about every app, encoded as it is collected: per app its id, and the
    /// generation and last characters of the valid token this worker remembers (0 and none: nothing
    /// remembered, so only a key that disagrees with meta counts). The tail tells two tokens of one
    /// generation apart (one written to a primary that lost it, one stored since) without sending whole
    /// tokens to Redis every tick.
    ///
    /// Each batch of apps is one script argument, `appid generation length tail` after another: an idle
    /// tick at 10,000 apps then copies a few bytes per app into 20 buffers, instead of allocating an
    /// argument (and a tail string) per app.
    public struct WatchList: Sendable {
        /// One script argument per `TokenStore.watchBatch` apps.
        fileprivate private(set) var batches: [[UInt8]] = []
        public private(set) var count = 0

        public init() {}

        static let tailLength = 8

        /// Adds an app; an appid (`RefreshMessage.isAppID`) holds no space, and the tail's length says where it ends.
        public mutating func append(appid: String, generation: Int = 0, token: String? = nil) {
            if count % TokenStore.watchBatch == 0 {
                batches.append([])
                batches[batches.count - 1].reserveCapacity(TokenStore.watchBatch * (appid.utf8.count + Self.tailLength + 8))
            }
            let tail = token?.utf8.suffix(Self.tailLength)
            batches[batches.count - 1].append(contentsOf: appid.utf8)
            batches[batches.count - 1].append(UInt8(ascii: " "))
            batches[batches.count - 1].append(contentsOf: String(generation).utf8)
            batches[batches.count - 1].append(UInt8(ascii: " "))
            batches[batches.count - 1].append(UInt8(ascii: "0") + UInt8(tail?.count ?? 0))
            if let tail { batches[batches.count - 1].append(contentsOf: tail) }
            count += 1
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

    /// Apps per script call: one call blocks Redis for a millisecond or two, not longer.
    static let watchBatch = 500

    /// The apps of `list` that need attention, as (position in `list`, findings); the others cost no
    /// reply. Every batch goes in one pipelined round trip.
    public func watch(_ list: WatchList) async throws(RedisError) -> [(index: Int, findings: WatchFinding)] {
        let replies = try await redis.evaluateEach(Self.watchScript, argumentLists: list.batches.map { [keys.prefix, $0] })
        var found: [(index: Int, findings: WatchFinding)] = []
        for (batch, reply) in replies.enumerated() {
            let pairs = reply.array ?? []
            var pair = 0
            while pair + 1 < pairs.count {
                if let index = pairs[pair].integer, let flags = pairs[pair + 1].integer {
                    found.append((batch * Self.watchBatch + index, WatchFinding(rawValue: flags)))
                }
                pair += 2
            }
        }
        return found
    }

    /// ARGV[1]: the key prefix; ARGV[2]: a batch of `WatchList`, per app `appid generation length tail`
    /// (generation 0: none remembered; length: one digit, the tail's bytes). Returns a flat list of (0-based
    /// position in the batch, findings bits) for the apps with findings only. The key names are built here
    /// as `TokenKeys` builds them (one hash tag per app); the whole deployment is one Redis node.
    ///
    /// An app with no token in key or meta and none remembered is no finding: its pass already fetches when
    /// due, and waking it cannot re-seed anything. Flagging it woke every app of a first fill at every tick
    /// (100,000 extra passes per worker each check interval).
    static let watchScript = RedisScript(
        """
        local prefix, list = ARGV[1], ARGV[2]
        local found = {}
        local position, i = 1, 0
        while position <= #list do
          local first = string.find(list, ' ', position, true)
          local second = string.find(list, ' ', first + 1, true)
          local appid = string.sub(list, position, first - 1)
          local expected = tonumber(string.sub(list, first + 1, second - 1))
          local length = tonumber(string.sub(list, second + 1, second + 1))
          local tail = string.sub(list, second + 2, second + 1 + length)
          position = second + 2 + length
          local base = prefix .. ':{' .. appid .. '}:'
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
            found[#found + 1] = i
            found[#found + 1] = flags
          end
          i = i + 1
        end
        return found
        """
    )
}
