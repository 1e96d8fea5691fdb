import TestSupport
import Testing

@testable import TokenCentral

/// Noticing the Redis clock jump against the local monotonic clock. Samples are built from one base
/// instant plus offsets: no sleeping, no Redis.
@Suite struct RedisClockWatchTests {
    private let base = ContinuousClock.now
    private let redisMillis: Int64 = 1_714_521_600_000

    /// `TIME` sent `at` ms after `base`, answered 2 ms later, reading `redis`.
    private func sample(at local: Int64, redis: Int64) -> RedisTimeSample {
        RedisTimeSample(redisMillis: redis, sentAt: self.base + .milliseconds(local), receivedAt: self.base + .milliseconds(local + 2))
    }

    @Test func aClockAdvancingWithTheLocalOneIsNoStep() {
        var watch = RedisClockWatch()
        #expect(watch.observe(self.sample(at: 0, redis: self.redisMillis)) == nil)
        #expect(watch.observe(self.sample(at: 5000, redis: self.redisMillis + 5001)) == nil)
        #expect(watch.steppedBack.isZero)
    }

    @Test func aStepBackIsReportedWithBoundsAroundItsSize() throws {
        var watch = RedisClockWatch()
        _ = watch.observe(self.sample(at: 0, redis: self.redisMillis))
        let step = watch.observe(self.sample(at: 5000, redis: self.redisMillis + 5001 - 30_000))
        guard case .back(let shift) = step else { throw TestSupportError("expected a step back, got \(String(describing: step))") }
        #expect(shift.lower <= 30_000 && shift.upper >= 30_000)
        #expect(shift.upper - shift.lower <= 10, "bounds as tight as the round trips")
        #expect(watch.steppedBack == shift)
    }

    @Test func aStepForwardIsReportedButNotAddedToTheStepsBack() {
        var watch = RedisClockWatch()
        _ = watch.observe(self.sample(at: 0, redis: self.redisMillis))
        let step = watch.observe(self.sample(at: 1000, redis: self.redisMillis + 61_000))
        #expect(step.map { if case .forward = $0 { true } else { false } } == true)
        #expect(watch.steppedBack.isZero)
    }

    @Test func aJumpBelowTheThresholdIsNoStep() {
        var watch = RedisClockWatch()
        _ = watch.observe(self.sample(at: 0, redis: self.redisMillis))
        #expect(watch.observe(self.sample(at: 1000, redis: self.redisMillis + 1000 - 300)) == nil)
    }

    @Test func aSampleOverlappingThePreviousOneIsNotCompared() {
        var watch = RedisClockWatch()
        _ = watch.observe(self.sample(at: 5000, redis: self.redisMillis + 5000 - 30_000))
        // Sent before the previous reply arrived: its TIME may have run first, so it proves nothing.
        #expect(watch.observe(self.sample(at: 4999, redis: self.redisMillis + 4999)) == nil)
        #expect(watch.steppedBack.isZero)
    }

    @Test func stepsBackAddUpAndEachIsSeenOnceSinceAnEarlierSum() {
        var watch = RedisClockWatch()
        _ = watch.observe(self.sample(at: 0, redis: self.redisMillis))
        _ = watch.observe(self.sample(at: 1000, redis: self.redisMillis + 1000 - 10_000))
        let afterFirst = watch.steppedBack
        _ = watch.observe(self.sample(at: 2000, redis: self.redisMillis + 2000 - 30_000))
        let second = watch.steppedBack.since(afterFirst)
        #expect(second.lower <= 20_000 && second.upper >= 20_000)
    }
}
