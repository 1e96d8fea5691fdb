import RedisClient
import ServiceLifecycleTestKit
import TestSupport
import Testing
@testable import TokenCentralClient

/// The cache of `TokenCentralClient` against a real Redis. Tokens are changed behind the client's back
/// (plain `SET`, no announcement): a client that still returns the old one did not read Redis.
@Suite struct ClientCacheTests {
    @Test func cachedReadDoesNotReadRedisAgain() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        try await fixture.writeToken("token-1")
        try await fixture.withListeningClient { client in
            #expect(try await client.accessToken(for: fixture.appid) == "token-1")
            try await fixture.writeToken("token-2")
            #expect(try await client.accessToken(for: fixture.appid) == "token-1")
        }
        try await fixture.cleanUp()
    }

    @Test func announcementDropsOnlyThatAppsToken() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        try await fixture.writeToken("token-1")
        try await fixture.withListeningClient { client in
            _ = try await client.accessToken(for: fixture.appid)
            try await fixture.writeToken("token-2")
            try await fixture.announce(appid: "wxother", generation: 2)
            try await fixture.announce(generation: 2)
            try await waitUntil("the announced token is read") {
                try await client.accessToken(for: fixture.appid) == "token-2"
            }
        }
        try await fixture.cleanUp()
    }

    @Test func expiredEntryIsReadAgain() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        try await fixture.writeToken("short-lived", ttl: .seconds(4))
        try await fixture.withListeningClient { client in
            #expect(try await client.accessToken(for: fixture.appid) == "short-lived")
            try await fixture.writeToken("next")
            #expect(try await client.accessToken(for: fixture.appid) == "short-lived")
            try await waitUntil("the entry expires with its key") {
                try await client.accessToken(for: fixture.appid) == "next"
            }
        }
        try await fixture.cleanUp()
    }

    @Test func withoutListenerEveryReadGoesToRedis() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        let client = TokenCentralClient(redis: fixture.redis, keyPrefix: fixture.prefix)
        try await fixture.writeToken("token-1")
        #expect(try await client.accessToken(for: fixture.appid) == "token-1")
        try await fixture.writeToken("token-2")
        #expect(try await client.accessToken(for: fixture.appid) == "token-2")
        try await fixture.cleanUp()
    }

    @Test func resubscribingDropsTheCache() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let fixture = try ClientFixture(url: server.url)
        try await fixture.writeToken("before-restart")
        try await fixture.withListeningClient { client in
            #expect(try await client.accessToken(for: fixture.appid) == "before-restart")
            try await server.restart()  // empty again: no persistence
            try await fixture.writeToken("after-restart")
            try await waitUntil("the cache is dropped on resubscription") {
                (try? await client.accessToken(for: fixture.appid)) == "after-restart"
            }
        }
        await server.stop()
    }

    @Test func gracefulShutdownEndsRun() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        let client = TokenCentralClient(redis: fixture.redis, keyPrefix: fixture.prefix)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup { group in
                group.addTask { await client.run() }
                try await waitUntil("client listens") { client.isListening }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(!client.isListening)
    }
}
