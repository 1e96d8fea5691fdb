import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// Workers against a private Redis that is down when they start, or goes away mid-refresh.
@Suite(.timeLimit(.minutes(2))) struct RedisRecoveryTests {
    @Test func workersStartedBeforeRedisServeOnceItComesUp() async throws {
        let server = try RedisServerProcess()
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxlate": "s1"])
        try await WorkerFleet.run(workers: 2, apps: [.app("wxlate", secret: "s1")], mock: mock, redisURL: server.url) { fleet, workers in
            try await waitUntil("every worker found Redis down") {
                workers.allSatisfy { worker in
                    (sampleValue(#"tokencentral_redis_errors_total{operation="refresh"}"#, in: worker.renderedMetrics()) ?? 0) > 0
                }
            }
            #expect(fleet.mock.stats(appid: "wxlate").tokenCalls == 0, "no upstream call without Redis")
            try await server.start()
            try await fleet.waitForGeneration("wxlate", atLeast: 1, timeout: .seconds(15))
            #expect(fleet.mock.stats(appid: "wxlate").tokenCalls == 1)
        }
    }

    @Test func aTokenWhoseWriteFailedIsStoredWhenRedisIsBackWithoutFetchingAgain() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxunwritten": "s1"])
        let apps: [AppConfiguration] = [.app("wxunwritten", secret: "s1")]
        try await WorkerFleet.run(workers: 2, apps: apps, mock: mock, redisURL: server.url) { fleet, workers in
            try await fleet.waitForGeneration("wxunwritten", atLeast: 1)
            try await WorkerFleet.waitUntilEveryWorkerRemembers("wxunwritten", workers)
            let first = try #require(try await fleet.currentToken("wxunwritten"))
            fleet.mock.inject(.latency(.seconds(1), count: 1), appid: "wxunwritten")
            try await fleet.store.redis.publish(
                fleet.store.keys.refreshChannel, ForcedRefreshTests.message(appid: "wxunwritten", badToken: first))
            try await waitUntil("the forced fetch is in flight") { fleet.mock.stats(appid: "wxunwritten").tokenCalls == 2 }
            // Redis goes away (and comes back empty) while WeChat issues the new token: its write fails.
            await server.stop()
            try await waitUntil("WeChat issued the new token") { fleet.mock.stats(appid: "wxunwritten").tokensIssued == 2 }
            try await server.start()
            var current: String?
            try await waitUntil("the fetched token is stored", timeout: .seconds(15)) {
                current = try? await fleet.currentToken("wxunwritten")
                return current != nil && current != first
            }
            #expect(fleet.mock.validate(token: try #require(current)) == .ok)
            #expect(fleet.mock.stats(appid: "wxunwritten").tokenCalls == 2, "written from memory, not fetched again")
        }
    }
}
