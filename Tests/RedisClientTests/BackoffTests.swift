import RedisClient
import Testing

@Suite struct BackoffTests {
    let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))

    @Test func doublesPerAttempt() {
        #expect(backoff.ceiling(attempt: 0) == .milliseconds(100))
        #expect(backoff.ceiling(attempt: 1) == .milliseconds(200))
        #expect(backoff.ceiling(attempt: 3) == .milliseconds(800))
    }

    @Test func isCappedAtMaximum() {
        #expect(backoff.ceiling(attempt: 5) == .seconds(2))
        #expect(backoff.ceiling(attempt: 1000) == .seconds(2))
    }

    @Test func jitterStaysWithinHalfToFullCeiling() {
        #expect(backoff.delay(attempt: 2, unit: 0) == .milliseconds(200))
        #expect(backoff.delay(attempt: 2, unit: 1) == .milliseconds(400))
    }
}
