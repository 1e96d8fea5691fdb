import HTTPTypes
import HummingbirdTesting
import RedisClient
import TestSupport
import Testing
@testable import TokenCentral

/// `GET /v1/apps/{appid}/access_token` served from the worker's memory (`TokenView`), and the bound on
/// how long a replaced token can still be served: until the worker hears the announcement, never
/// longer than `http.token_cache_max_age` after the read, and nothing from memory across a lost
/// subscription. Tokens are changed behind the worker's back with a plain `SET` (no announcement).
@Suite(.timeLimit(.minutes(1))) struct HTTPTokenViewTests {
    static let appid = HTTPTestWorker.appid

    /// A max age no test outlasts: whatever ends a hit then is not the age.
    @Sendable static func longMaxAge(_ configuration: inout TokendConfiguration) {
        configuration.http.tokenCacheMaxAge = .seconds(120)
    }

    /// Reads the token through the API until the worker's view holds it.
    static func servedFromMemory(_ worker: HTTPTestWorker) async throws -> String {
        let view = worker.application.refresher.tokenView
        try await waitUntil("the worker subscribed and holds the token") {
            _ = try await worker.get("/v1/apps/\(appid)/access_token")
            return view.count == 1
        }
        return try #require(try await worker.get("/v1/apps/\(appid)/access_token").reply().accessToken)
    }

    static func changeSilently(_ worker: HTTPTestWorker, to token: String) async throws {
        _ = try await worker.store.redis.send("SET", worker.store.keys.accessToken(appid), token, "PX", 60_000)
    }

    static func served(_ worker: HTTPTestWorker) async throws -> String? {
        try await worker.get("/v1/apps/\(appid)/access_token").reply().accessToken
    }

    @Test func aTokenReadOnceIsServedFromMemoryWithoutReadingRedisAgain() async throws {
        try await HTTPTestWorker.run(configure: Self.longMaxAge) { worker in
            _ = try await worker.firstToken()
            let first = try await Self.servedFromMemory(worker)
            try await Self.changeSilently(worker, to: "changed-behind-its-back")
            #expect(try await Self.served(worker) == first)
            let reply = try await worker.get("/v1/apps/\(Self.appid)/access_token").reply()
            #expect((1...HTTPTestWorker.tokenLifetime).contains(try #require(reply.expiresIn)))
        }
    }

    @Test func anAnnouncedRefreshStopsTheReplacedTokenBeingServedAtOnce() async throws {
        try await HTTPTestWorker.run(configure: Self.longMaxAge) { worker in
            _ = try await worker.firstToken()
            _ = try await Self.servedFromMemory(worker)
            try await worker.seedToken("announced-token")
            try await waitUntil("the announced token is served", timeout: .seconds(5)) {
                try await Self.served(worker) == "announced-token"
            }
        }
    }

    @Test func aSilentChangeIsServedNoLaterThanTheMaxAgeAfterTheRead() async throws {
        let maxAge = Duration.seconds(1)
        try await HTTPTestWorker.run(configure: { $0.http.tokenCacheMaxAge = maxAge }) { worker in
            _ = try await worker.firstToken()
            _ = try await Self.servedFromMemory(worker)
            let changedAt = ContinuousClock.now
            try await Self.changeSilently(worker, to: "silent-token")
            // The entry was read before the change, so the age ends at most `maxAge` after it; the rest
            // is one request's latency on a loaded machine.
            try await waitUntil("the silently changed token is served", timeout: maxAge + .seconds(2), every: .milliseconds(10)) {
                try await Self.served(worker) == "silent-token"
            }
            #expect(ContinuousClock.now - changedAt < maxAge + .seconds(2))
        }
    }

    /// Announcements published while the subscription was down are lost, so the resubscribed worker
    /// holds nothing and its next read goes to Redis. (A plain `SET` would not show it: the refresher,
    /// woken by the resubscription, writes back the token it knows over a key it finds changed.)
    @Test func aLostSubscriptionDropsEveryTokenHeld() async throws {
        try await RedisServerProcess.with { server in
            try await HTTPTestWorker.run(redisURL: server.url, configure: Self.longMaxAge) { worker in
                _ = try await worker.firstToken()
                _ = try await Self.servedFromMemory(worker)
                _ = try await worker.store.redis.send("CLIENT", "KILL", "TYPE", "pubsub")
                try await waitUntil("the resubscribed worker dropped the token it held") {
                    worker.application.refresher.tokenView.count == 0
                }
            }
        }
    }

    @Test func withoutTheSubscriptionEveryReadGoesToRedis() async throws {
        try await HTTPTestWorker.run(refresher: false, configure: Self.longMaxAge) { worker in
            try await worker.seedToken("token-1")
            #expect(try await Self.served(worker) == "token-1")
            try await Self.changeSilently(worker, to: "token-2")
            #expect(try await Self.served(worker) == "token-2")
            #expect(worker.application.refresher.tokenView.count == 0)
        }
    }

    @Test func aTokenNotHeldIsA503RedisUnavailableWhileRedisIsDown() async throws {
        try await RedisServerProcess.with { server in
            try await HTTPTestWorker.run(refresher: false, redisURL: server.url) { worker in
                await server.stop()
                let response = try await worker.get("/v1/apps/\(Self.appid)/access_token")
                #expect(response.status == .serviceUnavailable)
                #expect(try response.reply().error == "redis_unavailable")
                // Back up for the key clean-up.
                try await server.start()
                try await waitUntil("the worker reconnects") { (try? await worker.store.redis.ping()) != nil }
            }
        }
    }

    @Test func aZeroMaxAgeReadsRedisEveryTime() async throws {
        try await HTTPTestWorker.run(configure: { $0.http.tokenCacheMaxAge = .zero }) { worker in
            _ = try await worker.firstToken()
            try await waitUntil("the worker subscribed") {
                !worker.application.refresher.health.problems.contains { $0.reason == .notSubscribed }
            }
            _ = try await Self.served(worker)
            try await Self.changeSilently(worker, to: "changed")
            #expect(try await Self.served(worker) == "changed")
            #expect(worker.application.refresher.tokenView.count == 0)
        }
    }
}
