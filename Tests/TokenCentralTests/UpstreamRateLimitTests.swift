import CoreMetrics
import Foundation
import RedisClient
import Synchronization
import TestSupport
import Testing

@testable import TokenCentral

/// The deployment-wide upstream rate limit against the real Redis: evenly spaced slots on the Redis
/// clock with a small burst, shared by every worker, never more than the limit in any second, a bounded
/// wait, and no uncounted call when Redis does not answer.
@Suite struct UpstreamRateLimitTests {
    /// One "worker's" limiter: its own connection to the shared Redis, under `keys`.
    private func limiter(_ keys: TokenKeys, limit: Int, maxWait: Duration, url: String? = nil) throws -> UpstreamRateLimit {
        UpstreamRateLimit(
            redis: try RedisClient(url: try url ?? sharedRedisURL()), keys: keys, limit: limit, maxWait: maxWait,
            metrics: UpstreamRateLimitMetrics(factory: NOOPMetricsHandler.instance))
    }

    @Test func twoWorkersSharingRedisNeverExceedTheLimitInAnySecond() async throws {
        let keys = TokenKeys(prefix: uniquePrefix("rate"))
        let workers = [try limiter(keys, limit: 10, maxWait: .seconds(60)), try limiter(keys, limit: 10, maxWait: .seconds(60))]
        // 40 calls at once, 20 through each worker: four seconds' worth of slots.
        let slots = try await withThrowingTaskGroup(of: Int64.self) { group in
            for call in 0..<40 {
                group.addTask { try await workers[call % 2].acquire().slotMillis }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }.sorted()
        #expect(slots.count == 40)
        // Any 11 slots in a row span a second or more: no second, wherever it starts, holds 11 calls.
        let spans = (0..<(slots.count - 10)).map { slots[$0 + 10] - slots[$0] }
        #expect(spans.allSatisfy { $0 >= 1000 }, "slot spans: \(spans)")
        try await deleteKeys(withPrefix: keys.prefix, on: workers[0].redis)
    }

    @Test func aBurstOfATwentiethOfTheLimitGoesAtOnce() async throws {
        let keys = TokenKeys(prefix: uniquePrefix("rate"))
        let redis = try RedisClient(url: try sharedRedisURL())
        // Six requests in one pipeline reach the script within microseconds of each other: at a limit of
        // 100, five share the instant and the sixth waits one spacing (1000 / 96 ms).
        let replies = try await redis.evaluateEach(
            UpstreamRateLimit.script, keys: [keys.upstreamRate], argumentLists: Array(repeating: [100, 60_000], count: 6))
        let waits = try replies.map { reply in
            guard case .granted(_, let wait) = try UpstreamRateLimit.Slot(reply, from: redis) else { throw TestSupportError("refused") }
            return wait
        }
        #expect(waits.prefix(5).allSatisfy { $0 == 0 }, "waits: \(waits)")
        #expect((10...12).contains(waits[5]), "waits: \(waits)")
        try await deleteKeys(withPrefix: keys.prefix, on: redis)
    }

    @Test func noSecondHoldsMoreThanTheLimitThroughBursts() async throws {
        let keys = TokenKeys(prefix: uniquePrefix("rate"))
        let limiter = try limiter(keys, limit: 100, maxWait: .seconds(60))
        let slots = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<250 { group.addTask { try await limiter.acquire().slotMillis } }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }.sorted()
        // Any 101 slots in a row span a second or more: no second, wherever it starts, holds 101 calls
        // (999 ms: the script spaces slots to the microsecond and answers in whole milliseconds).
        let spans = (0..<(slots.count - 100)).map { slots[$0 + 100] - slots[$0] }
        #expect(spans.allSatisfy { $0 >= 999 }, "shortest span of 101 slots: \(spans.min() ?? 0) ms")
        try await deleteKeys(withPrefix: keys.prefix, on: limiter.redis)
    }

    @Test func callWhoseSlotIsBeyondTheWaitBoundIsRefused() async throws {
        let keys = TokenKeys(prefix: uniquePrefix("rate"))
        let maxWait = Duration.milliseconds(200)
        let limiter = try limiter(keys, limit: 1, maxWait: maxWait)
        // One call a second: after one slot, the next is a second away, beyond the 200 ms bound.
        _ = try await self.limiter(keys, limit: 1, maxWait: .seconds(5)).acquire()
        // Refused, not granted after a sleep: the slot a second away is beyond the bound.
        await #expect(throws: UpstreamRateLimit.Refusal.waitExceeded) { try await limiter.acquire() }
        try await deleteKeys(withPrefix: keys.prefix, on: limiter.redis)
    }

    @Test func callWaitsForItsSlotASpacingAfterThePreviousOne() async throws {
        let keys = TokenKeys(prefix: uniquePrefix("rate"))
        let limiter = try limiter(keys, limit: 1, maxWait: .seconds(5))
        let first = try await limiter.acquire()
        let started = ContinuousClock.now
        let second = try await limiter.acquire()
        #expect(!first.waited)
        #expect(second.waited)
        #expect(second.slotMillis - first.slotMillis >= 1000)
        // It slept until its slot: most of the second (the first slot may have been a moment ago).
        #expect(ContinuousClock.now - started >= .milliseconds(500))
        try await deleteKeys(withPrefix: keys.prefix, on: limiter.redis)
    }

    @Test func slotsStartAgainFromNowWhenTheRedisClockSteppedBack() async throws {
        let keys = TokenKeys(prefix: uniquePrefix("rate"))
        let limiter = try limiter(keys, limit: 1, maxWait: .seconds(2))
        // A next slot an hour ahead is what a Redis clock stepped back by an hour leaves behind.
        let now = try await TokenStore(redis: limiter.redis, keys: keys).time().redisNow()
        try await limiter.redis.send("HSET", keys.upstreamRate, "tat", String(now + 3_600_000))
        let grant = try await limiter.acquire()
        #expect(!grant.waited)
        #expect(abs(grant.slotMillis - now) < 60_000)
        try await deleteKeys(withPrefix: keys.prefix, on: limiter.redis)
    }

    @Test func unreachableRedisRefusesTheCallInsteadOfMakingItUncounted() async throws {
        let url = "redis://127.0.0.1:\(try freeLoopbackPort())/0"
        let limiter = try limiter(TokenKeys(prefix: "unreachable"), limit: 10, maxWait: .seconds(2), url: url)
        await #expect {
            try await limiter.acquire()
        } throws: { error in
            guard case .redisUnavailable = error as? UpstreamRateLimit.Refusal else { return false }
            return true
        }
    }

    @Test func refusedSlotIsATransientFailureAndNoUpstreamCallIsMade() async throws {
        let url = "redis://127.0.0.1:\(try freeLoopbackPort())/0"
        let upstream = ScriptedFetcher()
        let fetcher = RateLimitedFetcher<any TokenFetcher>(
            upstream: upstream, rateLimit: try limiter(TokenKeys(prefix: "unreachable"), limit: 10, maxWait: .seconds(2), url: url))
        let app = AppConfiguration(appid: "wxrate", secret: Secret("s"))
        guard case .failure(let error) = await fetcher.fetch(app, forceRefresh: false) else {
            Issue.record("expected a refusal"); return
        }
        #expect(error.kind == .transient)
        #expect(error.appid == "wxrate")
        #expect(upstream.calls == 0)
    }

    @Test func callThatWaitedForASlotMovesTheAnnouncedFetchStartToTheEndOfTheWait() async throws {
        let store = try TokenStore.onSharedRedis("rate")
        let upstream = ScriptedFetcher()
        let fetcher = RateLimitedFetcher<any TokenFetcher>(upstream: upstream, rateLimit: try limiter(store.keys, limit: 1, maxWait: .seconds(5)))
        let app = AppConfiguration(appid: "wxrestamp", secret: Secret("s"))
        let lease = RefreshLease(appid: app.appid, key: store.keys.lock(app.appid), value: "w:1", ttl: .seconds(5))
        let announced = try await store.time().redisNow()
        try await store.announceFetch(lease, startedAt: announced)
        // One slot a second: the second and third calls wait for theirs.
        for _ in 0..<3 { _ = await fetcher.fetch(app, forceRefresh: false) }
        let started = try #require(try await store.snapshot(app.appid).status.fetchInProgress)
        #expect(started.lease == "w:1")
        #expect(started.startedAt > announced)
        #expect(upstream.calls == 3)
        try await deleteKeys(withPrefix: store.keys.prefix, on: store.redis)
    }
}
