/// Metadata keys used in log lines, one list so every line spells them the same way.
enum LogKey {
    static let appID = "app.id"
    static let ticket = "ticket.type"
    static let corpID = "corp.id"
    static let worker = "worker.id"
    static let redisAddress = "redis.address"
    static let leaseKey = "lease.key"
    static let leaseTTL = "lease.ttl"
    static let generation = "token.generation"
    static let expiresIn = "token.expires_in"
    static let errcode = "upstream.errcode"
    static let errorKind = "upstream.error_kind"
    static let endpoint = "upstream.endpoint"
    static let reason = "refresh.reason"
    static let retryIn = "refresh.retry_in"
    static let error = "error"
    /// A jump of the Redis clock, in milliseconds, as bounds.
    static let clockStep = "redis.clock_step_ms"
    static let anomaly = "anomaly"
}
