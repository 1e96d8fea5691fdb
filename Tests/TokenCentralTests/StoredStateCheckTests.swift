import Testing

@testable import TokenCentral

/// What a worker makes of an app's state in Redis: plain values in, findings out.
@Suite struct StoredStateCheckTests {
    private let check = StoredStateCheck(
        failurePolicy: FailurePolicy(retryInitial: .seconds(1), retryMaximum: .seconds(60), configErrorRetry: .seconds(300)))
    private let now: Int64 = 1_714_521_600_000
    private let hour: Int64 = 3_600_000

    /// A 7200 s token issued `age` ms before `now`, generation `generation`.
    private func record(_ token: String = "T1", age: Int64 = 600_000, generation: Int = 1) -> TokenRecord {
        let issued = self.now - age
        return TokenRecord(token: token, expiresAt: issued + 7_200_000, fetchedAt: issued + 50, generation: generation, worker: "w1",
                           grant: .token, lifetime: 7_200_000, issuedMin: issued, issuedMax: issued + 50)
    }

    // MARK: implausible

    @Test func stateWorkersWroteIsPlausible() {
        #expect(self.check.implausible(AppStatus(record: self.record(), retryAt: self.now + self.hour), nowMillis: self.now).isEmpty)
    }

    @Test func anIssueWindowInTheFutureIsImplausible() {
        var poisoned = self.record()
        poisoned.issuedMin = self.now + self.hour
        poisoned.issuedMax = self.now + self.hour + 50
        #expect(self.check.implausible(AppStatus(record: poisoned), nowMillis: self.now).contains(.issuedInFuture))
    }

    @Test func anInvertedIssueWindowIsImplausible() {
        var poisoned = self.record()
        poisoned.issuedMin = poisoned.issuedMax + 1
        #expect(self.check.implausible(AppStatus(record: poisoned), nowMillis: self.now) == [.issueWindowInverted])
    }

    @Test func anExpiryMoreThanOneLifetimeAwayIsImplausible() {
        var poisoned = self.record()
        poisoned.expiresAt = self.now + 3 * self.hour
        #expect(self.check.implausible(AppStatus(record: poisoned), nowMillis: self.now) == [.expiryTooFar])
    }

    @Test func aLifetimeAboveTheCapIsImplausible() {
        var poisoned = self.record()
        poisoned.lifetime = 99_999_999_999_000
        #expect(self.check.implausible(AppStatus(record: poisoned), nowMillis: self.now).contains(.lifetimeTooLong))
    }

    @Test func aRetryAtWithinTheQuotaResetIsPlausible() {
        #expect(self.check.implausible(AppStatus(retryAt: self.now + 24 * self.hour), nowMillis: self.now).isEmpty)
    }

    @Test func aRetryAtBeyondTheCapIsImplausible() {
        #expect(self.check.implausible(AppStatus(retryAt: self.now + 10 * 8760 * self.hour), nowMillis: self.now) == [.retryTooFar])
    }

    @Test func theRetryCapCoversEveryLegitimateWait() {
        #expect(self.check.retryCapMillis == 25 * self.hour)
        let patient = StoredStateCheck(
            failurePolicy: FailurePolicy(retryInitial: .seconds(1), retryMaximum: .seconds(60), configErrorRetry: .seconds(48 * 3600)))
        #expect(patient.retryCapMillis == 48 * self.hour, "never below a configured wait")
    }

    // MARK: staleness

    @Test func redisServingTheRememberedTokenIsNotStale() {
        let known = self.record()
        #expect(self.check.staleness(remembered: known, stored: AppStatus(record: known), keyToken: "T1", nowMillis: self.now) == nil)
    }

    @Test func anOlderGenerationInRedisIsStale() {
        let known = self.record("T2", age: 1000, generation: 2)
        let restored = AppStatus(record: self.record("T1", age: 600_000, generation: 1))
        #expect(self.check.staleness(remembered: known, stored: restored, keyToken: "T1", nowMillis: self.now) == .olderGeneration)
    }

    @Test func anOlderIssuedTokenOfTheSameGenerationIsStale() {
        let known = self.record("T2", age: 1000, generation: 4)
        let other = AppStatus(record: self.record("T1", age: 600_000, generation: 4))
        #expect(self.check.staleness(remembered: known, stored: other, keyToken: "T1", nowMillis: self.now) == .olderIssued)
    }

    @Test func aHigherGenerationIsNotStaleWhateverItsIssueWindowSays() {
        // After a Redis clock step back, a token fetched since looks issued before one remembered from before.
        let known = self.record("T1", age: 1000, generation: 2)
        let fetchedSince = AppStatus(record: self.record("T2", age: 30_000, generation: 3))
        #expect(self.check.staleness(remembered: known, stored: fetchedSince, keyToken: "T2", nowMillis: self.now) == nil)
    }

    @Test func aKeyHoldingAnotherTokenThanMetaIsStale() {
        let known = self.record()
        #expect(self.check.staleness(remembered: known, stored: AppStatus(record: known), keyToken: "T0", nowMillis: self.now)
            == .keyDiffers)
    }

    @Test func aMissingKeyIsStale() {
        let known = self.record()
        #expect(self.check.staleness(remembered: known, stored: AppStatus(record: known), keyToken: nil, nowMillis: self.now)
            == .keyMissing)
    }

    @Test func aNewerTokenInRedisIsNotStale() {
        let known = self.record("T1", age: 600_000, generation: 1)
        let newer = AppStatus(record: self.record("T2", age: 1000, generation: 2))
        #expect(self.check.staleness(remembered: known, stored: newer, keyToken: "T2", nowMillis: self.now) == nil)
    }

    @Test func anExpiredRememberedTokenIsNeverWrittenBack() {
        let expired = self.record(age: 7_300_000)
        #expect(self.check.staleness(remembered: expired, stored: AppStatus(), keyToken: nil, nowMillis: self.now) == nil)
    }
}
