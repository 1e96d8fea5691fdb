/// Exponential backoff with full jitter: attempt `n` waits a random time in `[d/2, d]` where
/// `d = min(maximum, initial * 2^n)`. The jitter keeps many clients (or apps) that failed together
/// from retrying together.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration, maximum: Duration) {
        precondition(initial > .zero && maximum >= initial, "backoff needs 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
    }

    /// The ceiling for the given attempt (0-based), before jitter.
    public func ceiling(attempt: Int) -> Duration {
        let factor = 1 << min(max(attempt, 0), 30)
        let scaled = initial * factor
        return scaled > maximum || scaled < initial ? maximum : scaled
    }

    /// The delay to wait before retry number `attempt` (0-based); `unit` is a random value in [0, 1].
    public func delay(attempt: Int, unit: Double = Double.random(in: 0...1)) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        return ceiling / 2 + ceiling / 2 * unit
    }
}
