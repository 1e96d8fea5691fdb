import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// Workers against Redis state they did not write (a restore, a hand edit, a poisoned meta) and against
/// absurd upstream answers: real Redis, real wechat-mock.
@Suite(.timeLimit(.minutes(2))) struct ReconcileTests {
    @Test func anOlderTokenRestoredAfterARefreshIsWrittenBackWithinTheCheckInterval() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxrestore": "s1"])
        try await WorkerFleet.run(workers: 2, apps: [.app("wxrestore", secret: "s1")], mock: mock) { fleet, workers in
            try await fleet.waitForGeneration("wxrestore", atLeast: 1)
            let keys = fleet.store.keys
            let older = try #require(try await fleet.currentToken("wxrestore"))
            let dumpedKey = try #require(try await fleet.store.redis.send("DUMP", keys.accessToken("wxrestore")).bytes)
            let dumpedMeta = try #require(try await fleet.store.redis.send("DUMP", keys.meta("wxrestore")).bytes)
            try await fleet.store.redis.publish(keys.refreshChannel, ForcedRefreshTests.message(appid: "wxrestore", badToken: older))
            try await fleet.waitForGeneration("wxrestore", atLeast: 2)
            let newer = try #require(try await fleet.currentToken("wxrestore"))
            try await WorkerFleet.waitUntilEveryWorkerRemembers("wxrestore", workers, generation: 2)
            // A failover that lost the refresh, or an RDB restore: the older token is back, with TTL left.
            try await fleet.store.redis.send("RESTORE", keys.accessToken("wxrestore"), 3_600_000, dumpedKey, "REPLACE")
            try await fleet.store.redis.send("RESTORE", keys.meta("wxrestore"), 0, dumpedMeta, "REPLACE")
            // No check that the older token is readable now: a worker may write the newer one back before
            // the next line could look. The stale_token anomaly below proves a worker saw the older one.
            try await waitUntil("the newer token is back", timeout: .seconds(3)) {
                try await fleet.currentToken("wxrestore") == newer
            }
            #expect(try await fleet.record("wxrestore")?.token == newer)
            #expect(try await fleet.generation("wxrestore") >= 2)
            #expect(fleet.mock.stats(appid: "wxrestore").tokenCalls == 2, "written back from memory, not fetched again")
            #expect(workers.map { $0.anomalies("stale_token") }.reduce(0, +) >= 1)
        }
    }

    @Test func aKeySetByHandToAnotherTokenIsWrittenBack() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxhandset": "s1"])
        try await WorkerFleet.run(workers: 1, apps: [.app("wxhandset", secret: "s1")], mock: mock) { fleet, workers in
            try await fleet.waitForGeneration("wxhandset", atLeast: 1)
            try await WorkerFleet.waitUntilEveryWorkerRemembers("wxhandset", workers)
            let current = try #require(try await fleet.currentToken("wxhandset"))
            try await fleet.store.redis.send("SET", fleet.store.keys.accessToken("wxhandset"), "an-old-token", "PX", 3_600_000)
            try await waitUntil("the current token is back", timeout: .seconds(3)) {
                try await fleet.currentToken("wxhandset") == current
            }
            #expect(fleet.mock.stats(appid: "wxhandset").tokenCalls == 1)
        }
    }

    @Test func aLockWithoutTTLIsGivenOneAndTheAppGetsItsToken() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxstucklock": "s1"])
        try await WorkerFleet.run(workers: 1, apps: [.app("wxstucklock", secret: "s1")], mock: mock, configure: {
            $0.refresh.lockTTL = .seconds(1)
        }) { fleet, workers in
            try await fleet.store.redis.send("SET", fleet.store.keys.lock("wxstucklock"), "left-by-hand")
            try await fleet.waitForGeneration("wxstucklock", atLeast: 1, timeout: .seconds(10))
            #expect(try #require(workers.first).anomalies("lock_without_ttl") == 1)
        }
    }

    @Test func anIssueWindowPoisonedIntoTheFutureDoesNotMakeWorkersFetchBackToBack() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 8, apps: ["wxpoison": "s1"])
        try await WorkerFleet.run(workers: 2, apps: [.app("wxpoison", secret: "s1")], mock: mock) { fleet, workers in
            try await fleet.waitForGeneration("wxpoison", atLeast: 1)
            let now = try await fleet.store.time().redisNow()
            try await fleet.store.redis.send("HSET", fleet.store.keys.meta("wxpoison"), "issued_min", now + 3_600_000,
                                             "issued_max", now + 3_600_000)
            // Due within 6 s of an 8 s token: the next fetch must be stored, not refused again and again.
            try await fleet.waitForGeneration("wxpoison", atLeast: 2, timeout: .seconds(15))
            #expect(fleet.mock.stats(appid: "wxpoison").tokenCalls <= 3)
            #expect(workers.map { $0.anomalies("implausible_meta") }.reduce(0, +) >= 1)
        }
    }

    @Test func aTokenRefusedByTheFenceIsNotFetchedAgainBackToBack() async throws {
        // 1 s tokens answered after 1.1 s: every one has expired when it reaches Redis, and is refused.
        let mock = WeChatMockConfiguration(tokenLifetime: 1, apps: ["wxrefused": "s1"])
        try await WorkerFleet.run(workers: 1, apps: [.app("wxrefused", secret: "s1")], mock: mock, configure: {
            $0.refresh.retryInitial = .seconds(1)
            $0.refresh.retryMaximum = .seconds(4)
        }) { fleet, workers in
            fleet.mock.inject(.latency(.milliseconds(1100), count: 10), appid: "wxrefused")
            // The first call may have been answered before the latency was injected: count from here.
            let before = fleet.mock.stats(appid: "wxrefused").tokenCalls
            var started: [ContinuousClock.Instant] = []
            try await waitUntil("three delayed upstream calls", timeout: .seconds(30)) {
                let calls = fleet.mock.stats(appid: "wxrefused").tokenCalls - before
                while started.count < calls { started.append(.now) }
                return calls >= 3
            }
            // The second delayed call was refused too: the third waits the doubled backoff, at least 1 s,
            // after it returned.
            #expect(started[2] - started[1] >= .milliseconds(1100 + 800))
            #expect(try #require(workers.first).anomalies("refused_write") >= 2)
        }
    }

    @Test func aRetryAtYearsAwayIsCappedWhenTheAppNextLooks() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 8, apps: ["wxstall": "s1"])
        try await WorkerFleet.run(workers: 1, apps: [.app("wxstall", secret: "s1")], mock: mock) { fleet, _ in
            try await fleet.waitForGeneration("wxstall", atLeast: 1)
            let now = try await fleet.store.time().redisNow()
            try await fleet.store.redis.send("HSET", fleet.store.keys.meta("wxstall"), "retry_at", now + 10 * 365 * 86_400_000)
            try await waitUntil("retry_at is capped", timeout: .seconds(15)) {
                (try await fleet.status("wxstall").retryAt ?? .max) <= now + 25 * 3_600_000 + 60_000
            }
        }
    }

    @Test func anAbsurdLifetimeFromUpstreamIsCappedInRedis() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 99_999_999_999, apps: ["wxforever": "s1"])
        try await WorkerFleet.run(workers: 1, apps: [.app("wxforever", secret: "s1")], mock: mock) { fleet, workers in
            try await fleet.waitForGeneration("wxforever", atLeast: 1)
            let pttl = try #require(try await fleet.store.redis.send("PTTL", fleet.store.keys.accessToken("wxforever")).integer)
            #expect(pttl > 0 && Int64(pttl) <= TokenLifetime.maximum.components.seconds * 1000)
            #expect(try #require(workers.first).anomalies("lifetime_capped") == 1)
        }
    }
}

extension TokendApplication {
    /// `tokencentral_anomalies_total{kind=...}` of this worker; 0 when absent.
    func anomalies(_ kind: String) -> Int {
        Int(sampleValue(#"tokencentral_anomalies_total{kind="\#(kind)"}"#, in: renderedMetrics()) ?? 0)
    }
}
