import RedisClient

extension TokendConfiguration.Redis {
    /// `endpoint` with the `redis.tls` settings when it uses TLS (`rediss://`); any endpoint this
    /// configuration describes goes through here, so the CA, client certificate and server name apply
    /// to every node it names.
    public func applyingTLS(to endpoint: RedisEndpoint) -> RedisEndpoint {
        var endpoint = endpoint
        if endpoint.tls != nil, let tls { endpoint.tls = tls }
        return endpoint
    }
}
