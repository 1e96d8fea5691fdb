import Foundation
import RedisClient
import TestSupport
import Testing
@testable import TokenCentral

/// The fenced write and the lease, against the real Redis: "the last issued wins".
@Suite struct TokenStoreTests {
    let store: TokenStore
    let appid = "wxfence"

    init() throws {
        store = try .onSharedRedis("store")
    }

    /// A token issued within `window`, relative to the Redis time `now`, valid for a minute.
    func write(
        _ token: String, issued window: ClosedRange<Int64>, at now: Int64, lifetime: Int64 = 60_000, grant: Grant = .token,
        minimumGeneration: Int = 1, reseed: Bool = false, lease: RefreshLease? = nil, refreshNotBefore: Int64? = nil
    ) async throws -> WriteOutcome {
        try await store.write(
            appid: appid, token: token, issued: (now + window.lowerBound)...(now + window.upperBound), lifetimeMillis: lifetime,
            worker: "test", grant: grant, minimumGeneration: minimumGeneration, reseed: reseed, lease: lease,
            refreshNotBefore: refreshNotBefore)
    }

    func lease(_ worker: String) -> RefreshLease {
        RefreshLease(appid: appid, key: store.keys.lock(appid), value: "\(worker):1", ttl: .seconds(5))
    }

    func stored() async throws -> TokenRecord? { try await store.snapshot(appid).status.record }

    @Test func laterIssuedTokenReplacesTheStoredOneWithTheNextGeneration() async throws {
        let now = try await store.time().redisNow()
        _ = try await write("first", issued: -200 ... -150, at: now)
        guard case .written(let generation, _) = try await write("second", issued: -100 ... -50, at: now) else {
            Issue.record("expected a write"); return
        }
        #expect(generation == 2)
        #expect(try await stored()?.token == "second")
        #expect(try await store.redis.get(store.keys.accessToken(appid)) == Array("second".utf8))
    }

    @Test func certainlyOlderTokenIsRefused() async throws {
        let now = try await store.time().redisNow()
        _ = try await write("newer", issued: -100 ... -50, at: now)
        #expect(try await write("older", issued: -300 ... -200, at: now) == .older(storedGeneration: 1))
        #expect(try await stored()?.token == "newer")
    }

    @Test func overlappingIssueWindowsAreRefusedAndRequestAnotherFetch() async throws {
        let now = try await store.time().redisNow()
        _ = try await write("held-by-the-lease-winner", issued: -100 ... -90, at: now)
        // A worker paused past its lease: its window spans the winner's, so WeChat's order is unknown.
        #expect(try await write("from-the-paused-worker", issued: -500 ... -10, at: now) == .ambiguous(storedGeneration: 1))
        let status = try await store.snapshot(appid).status
        #expect(status.record?.token == "held-by-the-lease-winner")
        #expect(status.refreshRequested != nil)
        _ = try await write("certainly-last", issued: -5 ... -1, at: now)
        #expect(try await store.snapshot(appid).status.refreshRequested == nil)
    }

    @Test func sameTokenKeepsItsGenerationAndDefersTheNextAttemptToItsExpiry() async throws {
        let now = try await store.time().redisNow()
        _ = try await write("stable", issued: -100 ... -50, at: now)
        guard case .same(let generation, let expiresAt) = try await write("stable", issued: -40 ... -30, at: now) else {
            Issue.record("expected the same token"); return
        }
        #expect(generation == 1)
        #expect(try await store.snapshot(appid).status.retryAt == expiresAt)
    }

    @Test func sameTokenKeepsTheLaterOfItsTwoExpiries() async throws {
        let now = try await store.time().redisNow()
        guard case .written(_, let first) = try await write("wecom", issued: -100 ... -50, at: now) else {
            Issue.record("expected a write"); return
        }
        // Handed out again with whole seconds left: its expires_in lost the fraction.
        guard case .same(_, let expiresAt) = try await write("wecom", issued: -40 ... -30, at: now, lifetime: 59_000) else {
            Issue.record("expected the same token"); return
        }
        #expect(expiresAt == first)
        #expect(try await stored()?.expiresAt == first)
    }

    @Test func sameStableTokenAsksAgainHalfwayToItsExpiry() async throws {
        let now = try await store.time().redisNow()
        _ = try await write("stable", issued: -100 ... -50, at: now, grant: .stableToken)
        guard case .same(_, let expiresAt) = try await write("stable", issued: -40 ... -30, at: now, grant: .stableToken) else {
            Issue.record("expected the same token"); return
        }
        let retryAt = try #require(try await store.snapshot(appid).status.retryAt)
        let halfway = now + (expiresAt - now) / 2
        #expect(abs(retryAt - halfway) < 1_000, "retry at \(retryAt - now) ms of \(expiresAt - now) ms")
    }

    @Test func writingTheAnnouncedFetchClearsItsAnnouncement() async throws {
        let now = try await store.time().redisNow()
        try await store.announceFetch(lease("a"), startedAt: now - 100)
        #expect(try await store.snapshot(appid).status.fetchInProgress == FetchInProgress(lease: "a:1", startedAt: now - 100))
        _ = try await write("fetched", issued: -90 ... -10, at: now, lease: lease("a"))
        #expect(try await store.snapshot(appid).status.fetchInProgress == nil)
    }

    @Test func anotherWorkersAnnouncementSurvivesAWriteAndAFailure() async throws {
        let now = try await store.time().redisNow()
        try await store.announceFetch(lease("dead"), startedAt: now - 100)
        _ = try await write("taken-over", issued: -90 ... -10, at: now, lease: lease("taker"))
        let error = UpstreamError(kind: .transient, appid: appid, endpoint: "/cgi-bin/token", errcode: -1, errmsg: "busy", hint: "retry")
        try await store.recordFailure(error, retryAfter: .seconds(1), lease: lease("taker"))
        #expect(try await store.snapshot(appid).status.fetchInProgress?.lease == "dead:1")
        try await store.recordFailure(error, retryAfter: .seconds(1), lease: lease("dead"))
        #expect(try await store.snapshot(appid).status.fetchInProgress == nil)
    }

    @Test func writeAfterAnAbandonedFetchRequestsOneMoreAfterItsDeadline() async throws {
        let now = try await store.time().redisNow()
        _ = try await write("taken-over", issued: -90 ... -10, at: now, refreshNotBefore: now + 3_000)
        let status = try await store.snapshot(appid).status
        #expect(status.refreshRequested == "abandoned-fetch")
        #expect(status.refreshNotBefore == now + 3_000)
        _ = try await write("after-the-deadline", issued: -5 ... -1, at: now)
        let settled = try await store.snapshot(appid).status
        #expect(settled.refreshRequested == nil)
        #expect(settled.refreshNotBefore == nil)
    }

    @Test func expiredTokenIsRefused() async throws {
        let now = try await store.time().redisNow()
        let outcome = try await store.write(
            appid: appid, token: "stale", issued: (now - 10_000)...(now - 9_000), lifetimeMillis: 5_000, worker: "test", grant: .token)
        #expect(outcome == .expired)
        #expect(try await stored() == nil)
    }

    @Test func generationKeepsRisingAfterRedisLostTheMeta() async throws {
        let now = try await store.time().redisNow()
        guard case .written(let generation, _) = try await write("after-flush", issued: -10 ... -5, at: now, minimumGeneration: 8) else {
            Issue.record("expected a write"); return
        }
        #expect(generation == 8)
    }

    @Test func reseedRestoresTheTokenWithItsGeneration() async throws {
        let now = try await store.time().redisNow()
        _ = try await write("remembered", issued: -100 ... -50, at: now, minimumGeneration: 5, reseed: true)
        let record = try await stored()
        #expect(record?.generation == 5)
        #expect(try await store.snapshot(appid).status.retryAt == nil)
    }

    @Test func announcementCarriesGenerationButNeverTheToken() async throws {
        let now = try await store.time().redisNow()
        var events = store.redis.subscribe(channels: [store.keys.refreshedChannel]).makeAsyncIterator()
        #expect(await events.next() == .subscribed)
        _ = try await write("secret-looking-token", issued: -10 ... -5, at: now)
        guard case .message(let message) = await events.next() else { Issue.record("no announcement"); return }
        let text = String(decoding: message.payload, as: UTF8.self)
        #expect(text.contains(#""appid":"wxfence""#))
        #expect(text.contains(#""generation":1"#))
        #expect(!text.contains("secret-looking-token"))
    }

    @Test func onlyTheOwnerRenewsOrReleasesTheLease() async throws {
        let lease = try #require(try await store.acquireLease(appid: appid, worker: "a", ttl: .seconds(5)))
        #expect(try await store.acquireLease(appid: appid, worker: "b", ttl: .seconds(5)) == nil)
        var impostor = lease
        impostor.value = "b:1"
        #expect(try await store.renew(impostor) == false)
        try await store.release(impostor)
        #expect(try await store.redis.send("EXISTS", lease.key).integer == 1)
        #expect(try await store.renew(lease))
        try await store.release(lease)
        #expect(try await store.redis.send("EXISTS", lease.key).integer == 0)
    }
}
