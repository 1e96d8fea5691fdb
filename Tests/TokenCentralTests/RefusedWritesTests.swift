import RedisClient
import Testing

@testable import TokenCentral

/// Backing off after the fence refused a worker's token: plain instants, no sleeping.
@Suite struct RefusedWritesTests {
    private let base = ContinuousClock.now
    private let backoff = Backoff(initial: .seconds(1), maximum: .seconds(60))

    @Test func aRefusalDelaysTheNextScheduledFetch() {
        var refusals = RefusedWrites()
        _ = refusals.refused(at: self.base, backoff: self.backoff, unit: 1)
        #expect(refusals.waitUntil(now: self.base) == self.base + .seconds(1))
        #expect(refusals.waitUntil(now: self.base + .seconds(1)) == nil)
    }

    @Test func repeatedRefusalsWaitLongerUpToTheMaximum() {
        var refusals = RefusedWrites()
        var waits: [Duration] = []
        for _ in 0..<8 {
            _ = refusals.refused(at: self.base, backoff: self.backoff, unit: 1)
            waits.append((refusals.waitUntil(now: self.base) ?? self.base) - self.base)
        }
        #expect(waits == [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
    }

    @Test func onlyTheFirstRefusalOfAStreakIsLogged() {
        var refusals = RefusedWrites()
        let first = refusals.refused(at: self.base, backoff: self.backoff)
        let repeated = refusals.refused(at: self.base, backoff: self.backoff)
        refusals.stored()
        let afterStored = refusals.refused(at: self.base, backoff: self.backoff)
        #expect(first && !repeated)
        #expect(afterStored, "a new streak after a stored token")
    }

    @Test func aStoredTokenEndsTheBackoff() {
        var refusals = RefusedWrites()
        _ = refusals.refused(at: self.base, backoff: self.backoff)
        refusals.stored()
        #expect(refusals.waitUntil(now: self.base) == nil)
    }
}
