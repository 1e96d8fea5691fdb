import RedisClient

extension TokendConfiguration.Redis {
    /// `redis.sentinel`: find the primary through Redis Sentinel and follow it through failovers.
    public struct Sentinel: Sendable {
        /// The master's name in the sentinels' `sentinel monitor NAME ...`.
        public var master: String
        /// `host:port` (port 26379 by default) or `redis[s]://[[user]:password@]host:port`, asked in turn.
        public var addresses: [String]
        /// Sentinel credentials (`requirepass` / an ACL user on the sentinels), for addresses without their own.
        public var username: String?
        public var password: Secret?

        public init(master: String, addresses: [String], username: String? = nil, password: Secret? = nil) {
            self.master = master
            self.addresses = addresses
            self.username = username
            self.password = password
        }
    }

    /// The Redis part alone, for tools that are told where Redis is rather than given a configuration file.
    public init(url: String, sentinel: Sentinel?) {
        self.init()
        self.url = url
        self.sentinel = sentinel
    }

    /// The Redis client this configuration describes: `url` itself, or, with `sentinel`, the primary the
    /// sentinels name (with `url`'s credentials, or `password`, and database).
    public func makeClient(_ configuration: RedisClientConfiguration) throws(RedisError) -> RedisClient {
        let node = try endpoint()
        guard let sentinel else { return RedisClient(endpoint: node, configuration: configuration) }
        var sentinels: [RedisEndpoint] = []
        for address in sentinel.addresses {
            // A `rediss://` sentinel is reached over TLS with the same `redis.tls` settings as the data nodes.
            var endpoint = applyingTLS(to: try RedisSentinelConfiguration.sentinel(address))
            if endpoint.password == nil, let password = sentinel.password {
                endpoint.username = sentinel.username
                endpoint.password = password.value
            }
            sentinels.append(endpoint)
        }
        return RedisClient(
            sentinel: RedisSentinelConfiguration(masterName: sentinel.master, sentinels: sentinels, dataNode: node),
            configuration: configuration)
    }
}
