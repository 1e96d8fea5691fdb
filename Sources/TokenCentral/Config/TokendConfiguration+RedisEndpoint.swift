import RedisClient

extension TokendConfiguration.Redis {
    /// The Redis to connect to: `url`, with the `redis.tls` settings applied when it is `rediss://`.
    public func endpoint() throws(RedisError) -> RedisEndpoint {
        var endpoint = try RedisEndpoint(url: url)
        if endpoint.tls != nil, let tls { endpoint.tls = tls }
        return endpoint
    }
}
