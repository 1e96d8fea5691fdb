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
    ///
    /// Rounded outward: `TIME` was truncated to whole milliseconds (the true time may be up to 1 ms
    /// later), and partial milliseconds of the local offsets widen the window, never narrow it.
    public func redisRange(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> ClosedRange<Int64> {
        let lower = redisMillis + (start - receivedAt).floorMilliseconds
        let upper = redisMillis + 1 + (end - sentAt).ceilingMilliseconds
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
    private static let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000

    /// Whole milliseconds, truncated toward zero.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / Self.attosecondsPerMillisecond
    }

    /// Milliseconds rounded toward negative infinity.
    var floorMilliseconds: Int64 {
        let truncated = milliseconds
        return self < .milliseconds(truncated) ? truncated - 1 : truncated
    }

    /// Milliseconds rounded toward positive infinity.
    var ceilingMilliseconds: Int64 {
        let truncated = milliseconds
        return self > .milliseconds(truncated) ? truncated + 1 : truncated
    }
}
