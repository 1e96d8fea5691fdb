import Testing

@testable import TokenCentral

/// When a token is due and how long leases last: plain values in, decisions out.
@Suite struct RefreshScheduleTests {
    /// Production settings: `refresh.ahead` 300 s, `refresh.lock_ttl` 30 s.
    private let schedule = RefreshSchedule(ahead: .seconds(300), lockTTL: .seconds(30))
    private let appid = "wx1234567890abcdef"
    private let hour: Int64 = 3_600_000

    /// A token expiring at `expiresAt` (unix ms of the Redis clock), 7200 s lifetime unless told.
    private func record(expiresAt: Int64, lifetime: Int64 = 7_200_000, generation: Int = 1) -> TokenRecord {
        TokenRecord(
            token: "TOKEN-\(generation)", expiresAt: expiresAt, fetchedAt: expiresAt - lifetime, generation: generation,
            worker: "w1", grant: .token, lifetime: lifetime, issuedMin: expiresAt - lifetime - 10,
            issuedMax: expiresAt - lifetime)
    }

    // MARK: effectiveAhead

    @Test func effectiveAheadIsTheConfiguredAheadForLongLifetimes() {
        #expect(self.schedule.effectiveAhead(lifetimeMillis: 7_200_000) == 300_000)
    }

    @Test func effectiveAheadIsAQuarterOfAShortLifetime() {
        #expect(self.schedule.effectiveAhead(lifetimeMillis: 8_000) == 2_000)
    }

    @Test(arguments: [Int64(0), -1])
    func effectiveAheadFallsBackToTheConfiguredAheadWithoutALifetime(lifetime: Int64) {
        #expect(self.schedule.effectiveAhead(lifetimeMillis: lifetime) == 300_000)
    }

    // MARK: leaseTTL

    @Test func leaseTTLIsTheConfiguredLockTTLWhenTheLifetimeIsUnknown() {
        #expect(self.schedule.leaseTTL(lifetimeMillis: nil) == .seconds(30))
        #expect(self.schedule.leaseTTL(lifetimeMillis: 0) == .seconds(30))
    }

    @Test func leaseTTLIsTheConfiguredLockTTLWhenAThirdOfTheAheadIsLonger() {
        // A third of 300 s is 100 s, longer than the 30 s lock_ttl.
        #expect(self.schedule.leaseTTL(lifetimeMillis: 7_200_000) == .seconds(30))
    }

    @Test func leaseTTLIsCappedAtAThirdOfTheEffectiveAhead() {
        // 8 s lifetime → effective ahead 2 s → lease at most 666 ms.
        #expect(self.schedule.leaseTTL(lifetimeMillis: 8_000) == .milliseconds(666))
    }

    @Test func leaseTTLNeverDropsBelowFiftyMilliseconds() {
        // 100 ms lifetime → effective ahead 25 ms → a third is 8 ms, raised to the 50 ms floor.
        #expect(self.schedule.leaseTTL(lifetimeMillis: 100) == .milliseconds(50))
    }

    @Test func leaseTTLFloorDoesNotExceedAShorterConfiguredLockTTL() {
        let schedule = RefreshSchedule(ahead: .seconds(300), lockTTL: .milliseconds(20))
        #expect(schedule.leaseTTL(lifetimeMillis: 100) == .milliseconds(20))
    }

    // MARK: jitter

    @Test func jitterIsDeterministicPerAppAndGeneration() {
        let first = self.schedule.jitterMillis(appid: self.appid, generation: 7, effectiveAhead: 300_000)
        let second = self.schedule.jitterMillis(appid: self.appid, generation: 7, effectiveAhead: 300_000)
        #expect(first == second)
    }

    @Test func jitterIsTheSameInEveryProcess() {
        // FNV-1a of "wx1234567890abcdef:1" modulo 30,000: a stable hash, not Swift's per-process seeded Hasher,
        // so every worker computes the same due time.
        #expect(self.schedule.jitterMillis(appid: self.appid, generation: 1, effectiveAhead: 300_000) == 14_441)
        #expect(self.schedule.jitterMillis(appid: self.appid, generation: 2, effectiveAhead: 300_000) == 19_808)
    }

    @Test func jitterStaysWithinATenthOfTheEffectiveAhead() {
        let jitters = (0..<1_000).map { self.schedule.jitterMillis(appid: "wx\($0)", generation: 1, effectiveAhead: 300_000) }
        #expect(jitters.allSatisfy { (0..<30_000).contains($0) })
    }

    @Test func jitterSpreadsManyAppsOverTheWindow() {
        let jitters = Set((0..<1_000).map { self.schedule.jitterMillis(appid: "wx\($0)", generation: 1, effectiveAhead: 300_000) })
        #expect(jitters.count > 900)
        #expect(jitters.min()! < 3_000)
        #expect(jitters.max()! > 27_000)
    }

    @Test func jitterIsZeroWhenTheWindowIsUnderOneMillisecond() {
        #expect(self.schedule.jitterMillis(appid: self.appid, generation: 1, effectiveAhead: 9) == 0)
    }

    // MARK: dueAt

    @Test func dueAtIsTheEffectiveAheadBeforeExpiryMinusTheJitter() {
        let record = self.record(expiresAt: 10 * self.hour)
        let jitter = self.schedule.jitterMillis(appid: self.appid, generation: 1, effectiveAhead: 300_000)
        #expect(self.schedule.dueAt(record, appid: self.appid) == 10 * self.hour - 300_000 - jitter)
    }

    @Test func dueAtOfAShortLivedTokenUsesAQuarterOfItsLifetime() {
        let record = self.record(expiresAt: 100_000, lifetime: 8_000)
        let due = self.schedule.dueAt(record, appid: self.appid)
        // Due 2 s before expiry, up to a tenth of that (200 ms) earlier.
        #expect((100_000 - 2_200 + 1)...(100_000 - 2_000) ~= due)
    }

    // MARK: decide

    @Test func missingTokenIsRefreshed() {
        #expect(self.schedule.decide(AppStatus(), appid: self.appid, nowMillis: self.hour) == .refresh(.missing))
    }

    @Test func expiredTokenIsRefreshed() {
        let status = AppStatus(record: self.record(expiresAt: self.hour - 1))
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: self.hour) == .refresh(.expired))
    }

    @Test func tokenIsExpiredAtItsExpiryInstant() {
        let status = AppStatus(record: self.record(expiresAt: self.hour))
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: self.hour) == .refresh(.expired))
    }

    @Test func freshTokenWaitsUntilItIsDue() {
        let record = self.record(expiresAt: 10 * self.hour)
        let due = self.schedule.dueAt(record, appid: self.appid)
        let decision = self.schedule.decide(AppStatus(record: record), appid: self.appid, nowMillis: 9 * self.hour)
        #expect(decision == .wait(untilMillis: due))
    }

    @Test func tokenIsRefreshedOnceDue() {
        let record = self.record(expiresAt: 10 * self.hour)
        let due = self.schedule.dueAt(record, appid: self.appid)
        #expect(self.schedule.decide(AppStatus(record: record), appid: self.appid, nowMillis: due) == .refresh(.due))
    }

    @Test func refreshRequestedRefreshesAFreshToken() {
        let status = AppStatus(record: self.record(expiresAt: 10 * self.hour), refreshRequested: "issue-order-unknown")
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: 9 * self.hour) == .refresh(.requested))
    }

    @Test func refreshRequestedWaitsUntilTheStoredIssueWindowHasPassed() {
        var record = self.record(expiresAt: 10 * self.hour)
        record.issuedMax = 9 * self.hour + 500
        let status = AppStatus(record: record, refreshRequested: "issue-order-unknown")
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: 9 * self.hour) == .wait(untilMillis: 9 * self.hour + 501))
    }

    @Test func refreshAfterAnAbandonedFetchWaitsUntilItsNotBeforeInstant() {
        let status = AppStatus(
            record: self.record(expiresAt: 10 * self.hour), refreshRequested: "abandoned-fetch", refreshNotBefore: 9 * self.hour + 3_000)
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: 9 * self.hour) == .wait(untilMillis: 9 * self.hour + 3_001))
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: 9 * self.hour + 3_001) == .refresh(.requested))
    }

    @Test func aStandingForcedRefreshMakesAFreshTokenDue() {
        var status = AppStatus(record: self.record(expiresAt: 10 * self.hour))
        status.forcedAt = 8 * self.hour
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: 8 * self.hour + 1) == .refresh(.forced))
    }

    @Test func aStandingForcedRefreshWaitsForRetryAtAfterATransientFailure() {
        var status = AppStatus(record: self.record(expiresAt: 10 * self.hour), retryAt: 8 * self.hour + 600)
        status.forcedAt = 8 * self.hour
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: 8 * self.hour + 1) == .wait(untilMillis: 8 * self.hour + 600))
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: 8 * self.hour + 600) == .refresh(.forced))
    }

    @Test func retryAtInTheFutureIsHonouredWithoutAToken() {
        let status = AppStatus(retryAt: self.hour + 5_000, failures: 3)
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: self.hour) == .wait(untilMillis: self.hour + 5_000))
    }

    @Test func retryAtInTheFutureIsHonouredWhenTheTokenExpired() {
        let status = AppStatus(record: self.record(expiresAt: self.hour - 1), retryAt: self.hour + 5_000)
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: self.hour) == .wait(untilMillis: self.hour + 5_000))
    }

    @Test func retryAtInTheFutureIsHonouredOverARefreshRequest() {
        let status = AppStatus(record: self.record(expiresAt: 10 * self.hour), retryAt: self.hour + 5_000, refreshRequested: "1")
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: self.hour) == .wait(untilMillis: self.hour + 5_000))
    }

    @Test func retryAtIsOverOnceReached() {
        let status = AppStatus(retryAt: self.hour)
        #expect(self.schedule.decide(status, appid: self.appid, nowMillis: self.hour) == .refresh(.missing))
    }
}
