import RedisClient
import TestSupport
import Testing
import WeChatMock

@testable import TokenCentral

/// A forced refresh stands in Redis (`forced_at`) until a newer token is stored: across transient
/// upstream failures, and whichever worker carries it out. Upstream is a `ScriptedFetcher`, so each
/// race runs the same way every time; the store is the real test Redis.
@Suite(.timeLimit(.minutes(1))) struct ForcedRefreshStandingTests {
    static let apps: [AppConfiguration] = [.app("wxstand", secret: "s1")]
    static let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxstand": "s1"])

    /// Runs `workers` workers whose upstream is a `ScriptedFetcher`; once the first token is stored,
    /// scripts `step` and has the first worker accept a report of that token, then runs `body`.
    private func reportingTheFirstToken(
        workers: Int = 1, after step: ScriptedFetcher.Step,
        _ body: (WorkerFleet, [TokendApplication], ScriptedFetcher, String) async throws -> Void
    ) async throws {
        let fetcher = ScriptedFetcher()
        try await WorkerFleet.run(workers: workers, apps: Self.apps, mock: Self.mock, fetcher: fetcher) { fleet, applications in
            try await fleet.waitForGeneration("wxstand", atLeast: 1)
            let current = try #require(try await fleet.currentToken("wxstand"))
            fetcher.script(step)
            let verdict = try await applications[0].refresher.forceRefresh(appid: "wxstand", badToken: current)
            #expect(verdict?.standingSince != nil)
            try await body(fleet, applications, fetcher, current)
        }
    }

    @Test func aReportWhoseCallFailsOnceIsCarriedOutAtRetryAt() async throws {
        try await reportingTheFirstToken(after: .failTransiently) { fleet, workers, fetcher, _ in
            // retry_initial is 100 ms in the fleet: the retry comes well within the wait.
            try await fleet.waitForGeneration("wxstand", atLeast: 2, timeout: .seconds(5))
            #expect(fetcher.calls == 3, "first token, the failed call, the retry")
            #expect(try await fleet.status("wxstand").forcedAt == nil)
            try await waitUntil("the worker counted the request as refreshed") {
                workers[0].counter("tokencentral_forced_refresh_total", app: "wxstand", outcome: "refreshed") == 1
            }
            #expect(workers[0].counter("tokencentral_forced_refresh_total", app: "wxstand", outcome: "refused") == 0)
        }
    }

    @Test func aRequestStandingInRedisIsCarriedOutByWorkersThatNeverHeardIt() async throws {
        let fetcher = ScriptedFetcher()
        try await WorkerFleet.run(workers: 2, apps: Self.apps, mock: Self.mock, fetcher: fetcher) { fleet, _ in
            try await fleet.waitForGeneration("wxstand", atLeast: 1)
            // As a worker that accepted a request and died (or met a Redis error) before its call leaves it.
            let now = try await fleet.store.time().redisNow()
            try await fleet.store.redis.send("HSET", fleet.store.keys.meta("wxstand"), "forced_at", now)
            try await fleet.waitForGeneration("wxstand", atLeast: 2, timeout: .seconds(5))
            #expect(fetcher.calls == 2)
            #expect(try await fleet.status("wxstand").forcedAt == nil)
        }
    }

    @Test func anUpstreamRefusalWithdrawsTheRequestWithItsReason() async throws {
        try await reportingTheFirstToken(after: .refuseConfiguration) { fleet, workers, fetcher, current in
            try await waitUntil("the request was withdrawn") { try await fleet.status("wxstand").forcedAt == nil }
            let status = try await fleet.status("wxstand")
            #expect(status.forcedRefusal?.reason == .upstreamRefusing)
            #expect(status.record?.token == current)
            try await waitUntil("the worker counted the request as refused") {
                workers[0].counter("tokencentral_forced_refresh_total", app: "wxstand", outcome: "refused") == 1
            }
            #expect(fetcher.calls == 2, "no retry before retry_at")
        }
    }

    @Test func aRequestStandsWhileTheLeaseHolderIsBlockedAndIsAnsweredByItsToken() async throws {
        try await reportingTheFirstToken(workers: 2, after: .blockUntilReleased) { fleet, workers, fetcher, current in
            #expect(try await workers[1].refresher.forceRefresh(appid: "wxstand", badToken: current)?.standingSince != nil)
            try await waitUntil("one worker is in its upstream call") { fetcher.calls == 2 }
            #expect(try await fleet.status("wxstand").forcedAt != nil)
            fetcher.release()
            try await fleet.waitForGeneration("wxstand", atLeast: 2)
            #expect(try await fleet.status("wxstand").forcedAt == nil)
            // The second worker's request stood for the same token: no second call for it.
            #expect(fetcher.calls == 2)
        }
    }
}
