import RedisClient

/// Backs a worker off after the fence refused its token (`older`, `ambiguous`, `expired`). Pure: outcomes
/// and instants in, a wait out.
///
/// A refusal spends an upstream call and changes nothing in Redis, so whatever made the fence refuse
/// (meta poisoned with an `issued_min` in the future, a clock that stepped back) makes the very next pass
/// fetch again: back to back, the daily quota gone in minutes. Waiting with the upstream backoff between
/// refusals bounds that to one call per `refresh.retry_maximum` per worker, and the streak is logged once.
///
/// The backoff is passed in, not kept: every app of a worker backs off alike, and a copy per app would
/// cost each 32 bytes.
struct RefusedWrites: Sendable, Hashable {
    /// Consecutive refusals; 0 after a write that stored the token.
    private(set) var streak = 0
    /// No fetch for a scheduled refresh before this local instant.
    private(set) var until: ContinuousClock.Instant?

    /// Notes a refusal at `now`, to wait `backoff` after; returns true when it starts a streak (log it),
    /// false for its repeats.
    mutating func refused(at now: ContinuousClock.Instant, backoff: Backoff, unit: Double = .random(in: 0...1)) -> Bool {
        until = now + backoff.delay(attempt: streak, unit: unit)
        streak += 1
        return streak == 1
    }

    /// The token was stored (or found stored): the streak ends.
    mutating func stored() {
        streak = 0
        until = nil
    }

    /// When a scheduled refresh may fetch again, if not now.
    func waitUntil(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let until, until > now else { return nil }
        return until
    }
}
