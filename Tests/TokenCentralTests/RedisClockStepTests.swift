import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// Workers on a Redis whose clock steps back 30 s (an NTP step, a failover to a skewed replica): a real
/// redis-server on a steppable clock, the real wechat-mock on the real one.
@Suite(.timeLimit(.minutes(2))) struct RedisClockStepTests {
    @Test func aRedisClockSteppedBackServesNoExpiredTokenAndCausesNoFetchLoop() async throws {
        let clock = try await SteppableRedisClock()
        let server = try RedisServerProcess(environment: clock.environment)
        try await server.start()
        do {
            try await self.stepBackAndRead(server: server, clock: clock)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Two workers with 8 s tokens; the clock steps back 30 s after the first token; two more tokens follow.
    private func stepBackAndRead(server: RedisServerProcess, clock: SteppableRedisClock) async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 8, apps: ["wxclock": "s1"])
        try await WorkerFleet.run(workers: 2, apps: [.app("wxclock", secret: "s1")], mock: mock, redisURL: server.url) { fleet, workers in
            try await fleet.waitForGeneration("wxclock", atLeast: 1)
            try await WorkerFleet.waitUntilEveryWorkerRemembers("wxclock", workers)
            let before = try #require(try await fleet.record("wxclock"))
            let callsBefore = fleet.mock.stats(appid: "wxclock").tokenCalls
            try clock.set(offset: .seconds(-30))
            try await waitUntil("the stored token's times moved back with the clock", timeout: .seconds(5)) {
                guard let now = try await fleet.record("wxclock") else { return false }
                return now.token != before.token || now.expiresAt <= before.expiresAt - 29_000
            }
            // Two more tokens with readers watching: none gets an expired token, one upstream call per token.
            let probe = ReaderProbe()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await probe.run(fleet: fleet, appid: "wxclock") }
                try await fleet.waitForGeneration("wxclock", atLeast: before.generation + 2, timeout: .seconds(20))
                group.cancelAll()
            }
            #expect(await probe.rejected.isEmpty)
            let tokens = try await fleet.generation("wxclock") - before.generation
            #expect(fleet.mock.stats(appid: "wxclock").tokenCalls - callsBefore <= tokens + 1)
            #expect(workers.contains { worker in
                (sampleValue(#"tokencentral_redis_clock_steps_total{direction="back"}"#, in: worker.renderedMetrics()) ?? 0) >= 1
            })
        }
    }
}
