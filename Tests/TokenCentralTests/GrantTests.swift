import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// The two grants whose endpoint hands out the same token again: stable_token and WeCom, with three
/// workers and the real mock.
@Suite(.timeLimit(.minutes(2))) struct GrantTests {
    @Test func stableTokenIsRenewedInWeChatsLastMinutesWithoutAGap() async throws {
        // The mock renews a stable token only in its last 1.5 s, less than the 2 s refresh margin of an
        // 8 s token: the first ask of each round gets the same token, the one halfway to expiry a new one.
        let mock = WeChatMockConfiguration(tokenLifetime: 8, overlap: .seconds(2), stableRenewWindow: .milliseconds(1500),
                                           apps: ["wxstable": "s1"])
        let app = AppConfiguration(appid: "wxstable", grant: .stableToken, secret: Secret("s1"))
        try await WorkerFleet.run(workers: 3, apps: [app], mock: mock) { fleet, _ in
            let reader = ReaderProbe()
            let reading = Task { await reader.run(fleet: fleet, appid: "wxstable") }
            defer { reading.cancel() }
            try await fleet.waitForGeneration("wxstable", atLeast: 3, timeout: .seconds(30))
            #expect(await reader.rejected.isEmpty)
            #expect(await reader.misses == 0, "the key went missing")
            let stats = fleet.mock.stats(appid: "wxstable")
            #expect(stats.tokenCalls == 0)
            #expect(stats.tokensIssued == 3)
            #expect(stats.stableTokenCalls <= 2 * 3, "\(stats.stableTokenCalls) calls for 3 tokens")
        }
    }

    @Test func stableTokenForcedRefreshUsesForceRefreshUpToTheDailyLimit() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxstable": "s1"])
        let app = AppConfiguration(appid: "wxstable", grant: .stableToken, secret: Secret("s1"))
        try await WorkerFleet.run(workers: 3, apps: [app], mock: mock, configure: { $0.refresh.stableForceDailyLimit = 1 }) { fleet, workers in
            try await fleet.waitForGeneration("wxstable", atLeast: 1)
            let first = try #require(try await fleet.currentToken("wxstable"))
            try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, ForcedRefreshTests.message(appid: "wxstable", badToken: first))
            // force_refresh:true: a new token although the current one has hours left.
            try await fleet.waitForGeneration("wxstable", atLeast: 2)
            let second = try #require(try await fleet.currentToken("wxstable"))
            #expect(second != first)
            try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, ForcedRefreshTests.message(appid: "wxstable", badToken: second))
            try await waitUntil("the second force is refused: one a day") {
                workers.map { $0.counter("tokencentral_forced_refresh_total", app: "wxstable", outcome: "refused") }.reduce(0, +) == 1
            }
            #expect(try await fleet.currentToken("wxstable") == second)
            #expect(fleet.mock.stats(appid: "wxstable").stableTokenCalls == 2)
        }
    }

    @Test func wechatRefusingForceRefreshStopsForcesForTheDayButNotRefreshes() async throws {
        // WeChat allows fewer forced refreshes than configured: its 45009 must not block normal calls.
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, stableForceRefreshDailyLimit: 1, apps: ["wxstable": "s1"])
        let app = AppConfiguration(appid: "wxstable", grant: .stableToken, secret: Secret("s1"))
        try await WorkerFleet.run(workers: 2, apps: [app], mock: mock) { fleet, workers in
            try await fleet.waitForGeneration("wxstable", atLeast: 1)
            for round in 1...3 {
                let current = try #require(try await fleet.currentToken("wxstable"))
                try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, ForcedRefreshTests.message(appid: "wxstable", badToken: current))
                if round == 1 { try await fleet.waitForGeneration("wxstable", atLeast: 2) }
                try await waitUntil("forced refresh \(round) settled") {
                    workers.map { $0.forcedRequestsSettled("wxstable") }.reduce(0, +) == 2 * round
                }
            }
            let status = try await fleet.status("wxstable")
            #expect(status.retryAt == nil, "normal refreshes must not wait for the quota reset")
            #expect(status.lastError == nil)
            #expect(status.fetchInProgress == nil)
            // One forced refresh, one refused by WeChat, the third refused without asking.
            #expect(fleet.mock.stats(appid: "wxstable").stableTokenCalls == 3)
            #expect(try await fleet.generation("wxstable") == 2)
        }
    }

    @Test func wecomAppGetsItsNextTokenWhenTheCurrentOneExpires() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 4, overlap: .zero, corps: ["wwcorp": "cs1"])
        let app = AppConfiguration(appid: "wwcorp-1000002", grant: .wecom, secret: Secret("cs1"), corpid: "wwcorp", agentid: "1000002")
        try await WorkerFleet.run(workers: 3, apps: [app], mock: mock) { fleet, _ in
            let reader = ReaderProbe()
            let reading = Task { await reader.run(fleet: fleet, appid: app.appid) }
            defer { reading.cancel() }
            try await fleet.waitForGeneration(app.appid, atLeast: 3, timeout: .seconds(30))
            // WeCom hands out the same token until it expires: never a superseded one, at worst one
            // that expired between the read and the check.
            #expect(await reader.rejected.allSatisfy { $0 == "\(ValidationResult.expired)" })
            let stats = fleet.mock.stats(appid: "wwcorp")
            #expect(stats.tokensIssued == 3)
            // Per token: the call at its refresh margin (same token), the one at its expiry (the same token
            // once more, with expires_in 0 when the whole seconds ran out first) and the one after it.
            #expect(stats.getTokenCalls <= 3 * 3, "\(stats.getTokenCalls) calls for 3 tokens")
        }
    }
}
