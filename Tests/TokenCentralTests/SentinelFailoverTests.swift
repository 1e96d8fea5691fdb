import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import TokenCentralClient
import WeChatMock

/// Workers and readers on a replicated Redis under Sentinel (`SentinelFixture`) while its primary dies.
@Suite(.timeLimit(.minutes(2))) struct SentinelFailoverTests {
    @Test func workersKeepServingTheTokenAcrossAFailover() async throws {
        try await withSentinelFixture { fixture in try await Self.serveAcrossFailover(fixture) }
    }

    @Test func tokenctlFindsThePrimaryThroughTheSentinels() async throws {
        try await withSentinelFixture { fixture in
            let keys = TokenKeys(prefix: uniquePrefix("ctl-sentinel"))
            let redis = RedisClient(sentinel: fixture.configuration)
            try await redis.set(keys.accessToken("wxctl"), "token-via-sentinel")
            let arguments = fixture.sentinelAddresses.flatMap { ["--sentinel", $0] }
                + ["--sentinel-master", SentinelFixture.masterName, "--prefix", keys.prefix, "get", "wxctl"]
            let outcome = try await Tokenctl().run(arguments)
            #expect(outcome.output == "token-via-sentinel\n")
            #expect(outcome.status == 0)
        }
    }

    private static func serveAcrossFailover(_ fixture: SentinelFixture) async throws {
        let appid = "wxsentinel"
        let mock = try WeChatMock(configuration: WeChatMockConfiguration(tokenLifetime: 8, overlap: .seconds(4), apps: [appid: "s1"]))
        let sentinel = TokendConfiguration.Redis.Sentinel(master: SentinelFixture.masterName, addresses: fixture.sentinelAddresses)
        let prefix = uniquePrefix("sentinel")
        try await withWeChatMockServer(mock) { mockURL in
            let workers = try (0..<2).map { index in
                var configuration = WorkerFleet.configuration(
                    worker: "worker-\(index)", apps: [AppConfiguration(appid: appid, secret: Secret("s1"))],
                    redisURL: "redis://\(SentinelFixture.masterName)/0", prefix: prefix, mockURL: mockURL)
                configuration.redis.sentinel = sentinel
                configuration.redis.commandTimeout = .milliseconds(500)
                return try TokendApplication(configuration: configuration, logger: WorkerFleet.logger)
            }
            let readerRedis = RedisClient(sentinel: fixture.configuration, configuration: .init(
                poolSize: 1, connectTimeout: .milliseconds(500), commandTimeout: .milliseconds(500),
                reconnectBackoff: .init(initial: .milliseconds(20), maximum: .milliseconds(200))))
            let reader = TokenCentralClient(redis: readerRedis, keyPrefix: prefix)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in workers { group.addTask { try await worker.refresher.run() } }
                defer { group.cancelAll() }
                var before = ""
                try await waitUntil("the workers store a first token", timeout: .seconds(20)) {
                    before = (try? await reader.accessToken(for: appid)) ?? ""
                    return !before.isEmpty
                }
                let callsBefore = mock.stats(appid: appid).tokenCalls
                let old = try await fixture.killPrimary()
                try await fixture.waitForFailover(from: old)
                // A reader reports the token as rejected through the new primary until a worker, subscribed
                // there now, replaces it (a report published before the workers moved reaches nobody).
                var after = ""
                try await waitUntil("a new token is stored on the new primary", timeout: .seconds(45), every: .milliseconds(100)) {
                    after = (try? await reader.accessToken(for: appid)) ?? ""
                    if after == before { try? await reader.reportInvalid(appid: appid, token: before) }
                    return !after.isEmpty && after != before
                }
                #expect(mock.validate(token: after) == .ok)
                #expect(readerRedis.endpoint.address != .tcp(host: "127.0.0.1", port: old))
                #expect(mock.stats(appid: appid).tokenCalls <= callsBefore + 2, "a failover must not cost a fetch storm")
            }
        }
    }
}
