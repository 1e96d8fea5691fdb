/// One reading of the Redis server's clock (`TIME`), with the local instants just before sending the
/// command and just after its reply.
///
/// Redis time is the one clock all workers share. With the local bounds, any local instant maps to a
/// range of Redis time that is certain even if this process was paused (SIGSTOP, GC) at any point: a
/// pause only widens the range, it never makes it wrong.
public struct RedisTimeSample: Sendable, Hashable {
    /// Redis time in unix milliseconds, read at some instant within `sentAt...receivedAt`.
    public var redisMillis: Int64
    public var sentAt: ContinuousClock.Instant
    public var receivedAt: ContinuousClock.Instant

    public init(redisMillis: Int64, sentAt: ContinuousClock.Instant, receivedAt: ContinuousClock.Instant) {
        self.redisMillis = redisMillis
        self.sentAt = sentAt
        self.receivedAt = receivedAt
    }

    /// The Redis-time window containing every instant of the local interval `start...end`.
    public func redisRange(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> ClosedRange<Int64> {
        let lower = redisMillis + (start - receivedAt).milliseconds
        let upper = redisMillis + (end - sentAt).milliseconds
        return lower...max(lower, upper)
    }

    /// Best estimate of Redis time now.
    public func redisNow(at local: ContinuousClock.Instant = .now) -> Int64 {
        redisMillis + (local - receivedAt).milliseconds
    }

    /// The local instant at which Redis time reaches `millis` (estimate; used to schedule wake-ups).
    public func localInstant(forRedisMillis millis: Int64) -> ContinuousClock.Instant {
        receivedAt + .milliseconds(millis - redisMillis)
    }
}

extension Duration {
    /// Whole milliseconds, truncated toward zero.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
