import Testing

@testable import TokenCentral

/// Mapping local instants to Redis time. Instants are built from one base instant plus offsets: no sleeping.
@Suite struct RedisTimeSampleTests {
    private let base = ContinuousClock.now
    private let redisMillis: Int64 = 1_714_521_600_000

    /// `TIME` sent at `base`, answered 10 ms later.
    private var sample: RedisTimeSample {
        RedisTimeSample(redisMillis: self.redisMillis, sentAt: self.base, receivedAt: self.base + .milliseconds(10))
    }

    /// `TIME` answered in no local time at all: Redis read its clock exactly at `base`.
    private var instantaneous: RedisTimeSample {
        RedisTimeSample(redisMillis: self.redisMillis, sentAt: self.base, receivedAt: self.base)
    }

    // MARK: redisNow / localInstant

    @Test func redisNowAtTheReplyIsTheSampledTime() {
        #expect(self.sample.redisNow(at: self.sample.receivedAt) == self.redisMillis)
    }

    @Test func redisNowAdvancesWithTheLocalClock() {
        #expect(self.sample.redisNow(at: self.sample.receivedAt + .milliseconds(250)) == self.redisMillis + 250)
    }

    @Test func localInstantIsWhenRedisTimeReachesTheGivenMillis() {
        #expect(self.sample.localInstant(forRedisMillis: self.redisMillis + 1_000) == self.sample.receivedAt + .seconds(1))
    }

    @Test func localInstantOfAPastRedisTimeIsBeforeTheReply() {
        #expect(self.sample.localInstant(forRedisMillis: self.redisMillis - 500) == self.sample.receivedAt - .milliseconds(500))
    }

    // MARK: redisRange

    @Test func rangeOfTheSampleIntervalSpansTheRoundTripBothWays() {
        let range = self.sample.redisRange(from: self.sample.sentAt, to: self.sample.receivedAt)
        #expect(range == (self.redisMillis - 10)...(self.redisMillis + 11))
    }

    @Test func rangeOfALaterIntervalIsWidenedByTheRoundTrip() {
        let start = self.sample.receivedAt + .milliseconds(100)
        let range = self.sample.redisRange(from: start, to: start + .milliseconds(100))
        // Redis read its clock somewhere within the 10 ms round trip, so the upper bound allows for it.
        #expect(range == (self.redisMillis + 100)...(self.redisMillis + 211))
    }

    @Test func rangeOfAnEarlierIntervalIsWidenedByTheRoundTrip() {
        let range = self.sample.redisRange(from: self.base - .milliseconds(50), to: self.base - .milliseconds(40))
        #expect(range == (self.redisMillis - 60)...(self.redisMillis - 39))
    }

    @Test func pauseBeforeTheReplyOnlyWidensTheRange() {
        let start = self.base + .milliseconds(100)
        let end = start + .milliseconds(100)
        let paused = RedisTimeSample(redisMillis: self.redisMillis, sentAt: self.base, receivedAt: self.base + .seconds(30))
        let normal = self.sample.redisRange(from: start, to: end)
        let widened = paused.redisRange(from: start, to: end)
        #expect(widened.lowerBound <= normal.lowerBound && widened.upperBound >= normal.upperBound)
    }

    @Test func pauseDuringTheIntervalOnlyWidensTheRange() {
        let start = self.sample.receivedAt + .milliseconds(100)
        let normal = self.sample.redisRange(from: start, to: start + .milliseconds(100))
        let paused = self.sample.redisRange(from: start, to: start + .seconds(30))
        #expect(paused.lowerBound == normal.lowerBound && paused.upperBound > normal.upperBound)
    }

    @Test func rangeOfOneInstantWithAnInstantaneousSampleCoversTheTruncatedMillisecond() {
        // TIME was truncated to whole milliseconds: the true time may be up to 1 ms later.
        let instant = self.base + .milliseconds(42)
        #expect(self.instantaneous.redisRange(from: instant, to: instant) == (self.redisMillis + 42)...(self.redisMillis + 43))
    }

    @Test func rangeIsNeverInvertedWhenStartFollowsEnd() {
        let range = self.sample.redisRange(from: self.sample.receivedAt + .seconds(1), to: self.sample.receivedAt)
        #expect(range.lowerBound == range.upperBound)
    }

    @Test func rangeContainsRedisTimeOfAnInstantAFractionOfAMillisecondBeforeTheSample() {
        // Redis read exactly `redisMillis` at `base`; 1.5 ms earlier its clock read redisMillis - 1.5 ms,
        // i.e. millisecond redisMillis - 2: the lower bound must round down.
        let range = self.instantaneous.redisRange(from: self.base - .microseconds(1_500), to: self.base)
        #expect(range.contains(self.redisMillis - 2))
    }

    @Test func rangeContainsRedisTimeOfAnInstantAFractionOfAMillisecondAfterTheSample() {
        // `redisMillis` is TIME truncated to whole milliseconds (TokenStore.millis: micros / 1000), so Redis's
        // clock may have read up to redisMillis + 0.999 ms at `base`; 1.5 ms later it may read redisMillis + 2.499 ms,
        // i.e. millisecond redisMillis + 2: the upper bound must round up.
        let range = self.instantaneous.redisRange(from: self.base, to: self.base + .microseconds(1_500))
        #expect(range.contains(self.redisMillis + 2))
    }
}
