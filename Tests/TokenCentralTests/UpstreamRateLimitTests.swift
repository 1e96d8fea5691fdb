import CoreMetrics
import Foundation
import RedisClient
import Synchronization
import TestSupport
import Testing

@testable import TokenCentral

/// The deployment-wide upstream rate limit against the real Redis: slots counted per Redis second,
/// shared by every worker, a bounded wait, and no uncounted call when Redis does not answer.
@Suite struct UpstreamRateLimitTests {
    /// One "worker's" limiter: its own connection to the shared Redis, under `keys`.
    private func limiter(_ keys: TokenKeys, limit: Int, maxWait: Duration, url: String? = nil) throws -> UpstreamRateLimit {
        UpstreamRateLimit(
            redis: try RedisClient(url: try url ?? sharedRedisURL()), keys: keys, limit: limit, maxWait: maxWait,
            metrics: UpstreamRateLimitMetrics(factory: NOOPMetricsHandler.instance))
    }

    @Test func twoWorkersSharingRedisNeverExceedTheLimitInAnyRedisSecond() async throws {
        let keys = TokenKeys(prefix: uniquePrefix("rate"))
        let workers = [try limiter(keys, limit: 10, maxWait: .seconds(60)), try limiter(keys, limit: 10, maxWait: .seconds(60))]
        // 40 calls at once, 20 through each worker: four seconds' worth of slots.
        let seconds = try await withThrowingTaskGroup(of: Int64.self) { group in
            for call in 0..<40 {
                group.addTask { try await workers[call % 2].acquire().second }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        let perSecond = Dictionary(grouping: seconds, by: { $0 }).mapValues(\.count)
        #expect(seconds.count == 40)
        #expect(perSecond.values.allSatisfy { $0 <= 10 }, "calls per Redis second: \(perSecond)")
        #expect(perSecond.count >= 4)
        try await deleteKeys(withPrefix: keys.prefix, on: workers[0].redis)
    }

    @Test func callFindingEverySlotTakenIsRefusedWithinTheWaitBound() async throws {
        let keys = TokenKeys(prefix: uniquePrefix("rate"))
        let maxWait = Duration.milliseconds(200)
        let limiter = try limiter(keys, limit: 1, maxWait: maxWait)
        let patient = try self.limiter(keys, limit: 1, maxWait: .seconds(5))
        // A slot taken, then another asked for: refused unless the second ends within the wait bound;
        // tried until a refusal is seen (a second has less than 200 ms left a fifth of the time).
        var refusals = 0
        for _ in 0..<5 where refusals == 0 {
            let first = try await patient.acquire().second
            let started = ContinuousClock.now
            do {
                let second = try await limiter.acquire().second
                #expect(second > first, "two slots granted in one second at a limit of 1")
            } catch {
                #expect(error == .waitExceeded)
                #expect(ContinuousClock.now - started < maxWait + .seconds(1))
                refusals += 1
            }
        }
        #expect(refusals == 1)
        try await deleteKeys(withPrefix: keys.prefix, on: limiter.redis)
    }

    @Test func callWaitsForTheNextSecondWhenThisOneIsFull() async throws {
        let keys = TokenKeys(prefix: uniquePrefix("rate"))
        let limiter = try limiter(keys, limit: 1, maxWait: .seconds(5))
        // A loaded machine may cross a second boundary between two calls (then nothing waits): the
        // rule holds on every pair, and some pair of a few falls within one second.
        var waited = false
        for _ in 0..<5 where !waited {
            let first = try await limiter.acquire()
            let second = try await limiter.acquire()
            #expect(second.second > first.second)
            waited = second.waited
        }
        #expect(waited)
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
        // One slot a second: of three calls, at least one waits for a later second.
        for _ in 0..<3 { _ = await fetcher.fetch(app, forceRefresh: false) }
        let started = try #require(try await store.snapshot(app.appid).status.fetchInProgress)
        #expect(started.lease == "w:1")
        #expect(started.startedAt > announced)
        #expect(upstream.calls == 3)
        try await deleteKeys(withPrefix: store.keys.prefix, on: store.redis)
    }
}
