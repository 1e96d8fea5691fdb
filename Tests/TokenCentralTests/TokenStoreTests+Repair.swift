import Foundation
import RedisClient
import TestSupport
import Testing
@testable import TokenCentral

/// Repairs of state workers did not write, against the real Redis: each one a compare-and-set, applied once.
extension TokenStoreTests {
    /// Stores `token`, issued just now, valid for `lifetime` ms; returns its record as stored.
    private func storedNow(_ token: String = "T1", lifetime: Int64 = 60_000) async throws -> TokenRecord {
        let now = try await store.time().redisNow()
        _ = try await store.write(appid: appid, token: token, issued: (now - 20)...(now - 10), lifetimeMillis: lifetime, worker: "test",
                                  grant: .token)
        return try #require(try await store.snapshot(appid).status.record)
    }

    private func keyPTTL() async throws -> Int {
        try #require(try await store.redis.send("PTTL", store.keys.accessToken(appid)).integer)
    }

    private func cleanUp() async throws { try await deleteKeys(withPrefix: store.keys.prefix, on: store.redis) }

    @Test func aClockStepBackMovesTheStoredTimesAndTheKeyExpiryBack() async throws {
        let record = try await storedNow()
        let before = try await keyPTTL()
        #expect(try await store.shiftTimes(appid: appid, token: record.token, expiresAt: record.expiresAt,
                                           by: ClockShift(lower: 30_000, upper: 30_010)))
        let shifted = try #require(try await store.snapshot(appid).status.record)
        #expect(shifted.expiresAt == record.expiresAt - 30_010)
        #expect(shifted.issuedMin == record.issuedMin - 30_010 && shifted.issuedMax == record.issuedMax - 30_000)
        #expect(try await keyPTTL() <= before - 30_000, "readers lose the token when WeChat does")
        try await cleanUp()
    }

    @Test func aClockStepIsAppliedOnceWhicheverWorkersSawIt() async throws {
        let record = try await storedNow()
        let step = ClockShift(lower: 10_000, upper: 10_000)
        #expect(try await store.shiftTimes(appid: appid, token: record.token, expiresAt: record.expiresAt, by: step))
        #expect(try await !store.shiftTimes(appid: appid, token: record.token, expiresAt: record.expiresAt, by: step))
        #expect(try await store.snapshot(appid).status.record?.expiresAt == record.expiresAt - 10_000)
        try await cleanUp()
    }

    @Test func aClockStepBackPastTheExpiryRemovesTheKey() async throws {
        let record = try await storedNow(lifetime: 20_000)
        #expect(try await store.shiftTimes(appid: appid, token: record.token, expiresAt: record.expiresAt,
                                           by: ClockShift(lower: 30_000, upper: 30_000)))
        #expect(try await store.snapshot(appid).keyToken == nil)
        try await cleanUp()
    }

    @Test func anIssueWindowInTheFutureIsClampedSoTheNextTokenIsStored() async throws {
        let record = try await storedNow()
        let now = try await store.time().redisNow()
        try await store.redis.send("HSET", store.keys.meta(appid), "issued_min", now + 3_600_000, "issued_max", now + 3_600_050)
        let check = StoredStateCheck(failurePolicy: FailurePolicy(retryInitial: .seconds(1), retryMaximum: .seconds(60),
                                                                  configErrorRetry: .seconds(300)))
        #expect(try await store.clampImplausible(appid: appid, token: record.token, check: check) > 0)
        let clamped = try #require(try await store.snapshot(appid).status.record)
        // Bounded by a clock reading after the clamp: a loaded machine may take seconds between reads.
        let afterClamp = try await store.time().redisNow()
        #expect(clamped.issuedMax <= afterClamp && clamped.issuedMin <= clamped.issuedMax)
        let later = try await store.time().redisNow() + 1
        let outcome = try await store.write(appid: appid, token: "T2", issued: later...(later + 10), lifetimeMillis: 60_000,
                                            worker: "test", grant: .token)
        #expect(outcome.isWritten)
        try await cleanUp()
    }

    @Test func aRetryAtYearsAwayIsClampedToTheCap() async throws {
        _ = try await storedNow()
        let now = try await store.time().redisNow()
        try await store.redis.send("HSET", store.keys.meta(appid), "retry_at", now + 10 * 365 * 86_400_000)
        let check = StoredStateCheck(failurePolicy: FailurePolicy(retryInitial: .seconds(1), retryMaximum: .seconds(60),
                                                                  configErrorRetry: .seconds(300)))
        #expect(try await store.clampImplausible(appid: appid, token: nil, check: check) == 1)
        let retryAt = try #require(try await store.snapshot(appid).status.retryAt)
        let afterClamp = try await store.time().redisNow()
        #expect(retryAt <= afterClamp + check.retryCapMillis)
        try await cleanUp()
    }

    @Test func aLockWithoutTTLIsGivenOneAndALeaseWithOneIsLeftAlone() async throws {
        let lock = store.keys.lock(appid)
        try await store.redis.send("SET", lock, "someone-by-hand")
        #expect(try await store.repairLockWithoutTTL(appid, ttl: .seconds(2)))
        let ttl = try #require(try await store.redis.send("PTTL", lock).integer)
        #expect(ttl > 0 && ttl <= 2000)
        #expect(try await !store.repairLockWithoutTTL(appid, ttl: .seconds(2)))
        try await cleanUp()
    }
}
