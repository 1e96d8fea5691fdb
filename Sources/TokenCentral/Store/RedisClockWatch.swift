/// Notices the Redis clock (`TIME`) jumping: an NTP step on the Redis host, or a failover to a replica
/// whose clock is skewed. Pure: samples in, steps out.
///
/// Every time in Redis is on that clock (`expires_at`, the fence's issue windows, `retry_at`, and the
/// keys' own `PX` expiries, which Redis keeps as absolute times). After a step back of 30 s they all lie
/// 30 s later in real time: the key outlives its token, workers think it valid 30 s too long, and a token
/// fetched within 30 s of the stored one looks issued before it, so the fence refuses it. Only a worker
/// that read the clock before and after the step can tell: it compares Redis time with its own monotonic
/// clock, which no NTP step moves.
public struct RedisClockWatch: Sendable, Hashable {
    /// Smallest jump reported. NTP steps (rather than slews) only above 128 ms, slewing moves a clock
    /// by at most 0.5 ms/s, and a sample's own uncertainty is its round trip: 500 ms is well clear of
    /// all of them, and below any lease TTL or check interval that a smaller step could upset.
    public static let thresholdMillis: Int64 = 500

    /// `Redis time − local time` at the latest sample, bounded by its round trip.
    private struct Offset: Sendable, Hashable {
        var low: Int64
        var high: Int64
        var receivedAt: ContinuousClock.Instant
    }

    private var reference: Offset?
    private var origin: ContinuousClock.Instant?
    /// The sum of every step back seen so far, as bounds (the true sum lies within).
    public private(set) var steppedBack = ClockShift()

    public init() {}

    /// Takes one reading of the Redis clock; returns the step it reveals, if any.
    ///
    /// Only a sample sent after the previous one was received is compared: `TIME` then certainly ran
    /// after it, so samples from concurrent tasks that straddle a step are never read as a step back and
    /// forth.
    public mutating func observe(_ sample: RedisTimeSample) -> RedisClockStep? {
        let origin = self.origin ?? sample.sentAt
        self.origin = origin
        let low = sample.redisMillis - (sample.receivedAt - origin).ceilingMilliseconds
        let high = sample.redisMillis + 1 - (sample.sentAt - origin).floorMilliseconds
        guard let reference else {
            reference = Offset(low: low, high: high, receivedAt: sample.receivedAt)
            return nil
        }
        guard sample.sentAt >= reference.receivedAt else { return nil }
        self.reference = Offset(low: low, high: high, receivedAt: sample.receivedAt)
        if reference.low - high > Self.thresholdMillis {
            let step = ClockShift(lower: reference.low - high, upper: reference.high - low)
            steppedBack = ClockShift(lower: steppedBack.lower + step.lower, upper: steppedBack.upper + step.upper)
            return .back(step)
        }
        if low - reference.high > Self.thresholdMillis {
            return .forward(ClockShift(lower: low - reference.high, upper: high - reference.low))
        }
        return nil
    }
}

/// A jump of the Redis clock, known within bounds (milliseconds).
public struct ClockShift: Sendable, Hashable {
    public var lower: Int64 = 0
    public var upper: Int64 = 0

    public init(lower: Int64 = 0, upper: Int64 = 0) {
        self.lower = lower
        self.upper = upper
    }

    /// The part of `self` that `earlier` (a previous value of the same running sum) did not include yet.
    public func since(_ earlier: ClockShift) -> ClockShift {
        ClockShift(lower: lower - earlier.lower, upper: upper - earlier.upper)
    }

    public var isZero: Bool { lower == 0 && upper == 0 }
}

public enum RedisClockStep: Sendable, Hashable {
    case back(ClockShift)
    case forward(ClockShift)
}
