import Testing

@testable import TokenCentral

/// How long workers leave an app's token endpoint alone after each kind of failure.
@Suite struct FailurePolicyTests {
    /// The defaults: retry_initial 1 s, retry_maximum 60 s, config_error_retry 300 s.
    private let policy = FailurePolicy(retryInitial: .seconds(1), retryMaximum: .seconds(60), configErrorRetry: .seconds(300))
    /// 2024-05-01T00:00:00Z in unix milliseconds.
    private let midnightUTC: Int64 = 1_714_521_600_000
    private let hour: Int64 = 3_600_000

    private func transient(failures: Int, aheadMillis: Int64? = nil, unit: Double = 1) -> Duration {
        self.policy.retryDelay(for: .transient, failures: failures, nowMillis: self.midnightUTC, effectiveAheadMillis: aheadMillis, unit: unit)
    }

    // MARK: transient

    @Test func firstTransientRetryWaitsTheInitialDelay() {
        #expect(self.transient(failures: 0) == .seconds(1))
    }

    @Test func transientDelayDoublesPerConsecutiveFailure() {
        #expect([1, 2, 3].map { self.transient(failures: $0) } == [.seconds(2), .seconds(4), .seconds(8)])
    }

    @Test func transientDelayIsCappedAtTheRetryMaximum() {
        #expect(self.transient(failures: 40) == .seconds(60))
    }

    @Test func transientJitterLowestIsHalfTheCeiling() {
        #expect(self.transient(failures: 3, unit: 0) == .seconds(4))
    }

    @Test func minuteLimitIsRetriedNoEarlierThanTheNextMinute() {
        let delay = self.policy.retryDelay(
            for: .transient, errcode: 45011, failures: 0, nowMillis: self.midnightUTC + 15_000, effectiveAheadMillis: nil, unit: 1)
        #expect(delay == .seconds(45))
    }

    @Test func transientDelayIsCappedAtAQuarterOfTheAheadWindow() {
        // An 80 s token: effective ahead 20 s, so several retries of at most 5 s fit before it expires.
        #expect(self.transient(failures: 10, aheadMillis: 20_000) == .seconds(5))
    }

    @Test func aheadWindowCapNeverGoesBelowTheInitialDelay() {
        // A quarter of 2 s is 500 ms, shorter than retry_initial (1 s).
        #expect(self.transient(failures: 10, aheadMillis: 2_000) == .seconds(1))
    }

    @Test func aheadWindowLongerThanFourTimesTheMaximumLeavesTheMaximum() {
        #expect(self.transient(failures: 10, aheadMillis: 300_000) == .seconds(60))
    }

    // MARK: other kinds

    @Test func configurationErrorWaitsConfigErrorRetry() {
        let delay = self.policy.retryDelay(for: .configuration, failures: 5, nowMillis: self.midnightUTC, effectiveAheadMillis: 2_000)
        #expect(delay == .seconds(300))
    }

    @Test func riskControlWaitsTheBlockedPeriod() {
        let delay = self.policy.retryDelay(
            for: .riskControl(blockedFor: .seconds(24 * 3600)), failures: 0, nowMillis: self.midnightUTC, effectiveAheadMillis: 2_000)
        #expect(delay == .seconds(24 * 3600))
    }

    @Test func quotaExhaustedWaitsUntilMidnightBeijingTime() {
        // 00:00 UTC is 08:00 in Beijing: the quota resets 16 h later, at 16:00 UTC.
        let delay = self.policy.retryDelay(for: .quotaExhausted, failures: 0, nowMillis: self.midnightUTC, effectiveAheadMillis: 2_000)
        #expect(delay == .milliseconds(16 * self.hour))
    }

    // MARK: millisUntilQuotaReset

    @Test func quotaResetsAt1600UTC() {
        let oneSecondBefore = self.midnightUTC + 16 * self.hour - 1_000
        #expect(FailurePolicy.millisUntilQuotaReset(nowMillis: oneSecondBefore) == 1_000)
    }

    @Test func quotaExhaustedAtTheResetInstantWaitsAFullDay() {
        #expect(FailurePolicy.millisUntilQuotaReset(nowMillis: self.midnightUTC + 16 * self.hour) == 24 * self.hour)
    }

    @Test func quotaExhaustedJustAfterTheResetWaitsAlmostADay() {
        #expect(FailurePolicy.millisUntilQuotaReset(nowMillis: self.midnightUTC + 16 * self.hour + 1) == 24 * self.hour - 1)
    }
}
