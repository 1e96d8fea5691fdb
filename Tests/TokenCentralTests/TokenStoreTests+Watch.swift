import RedisClient
import TestSupport
import Testing
@testable import TokenCentral

/// The watchdog's script against the real Redis: only apps that need attention come back, with why.
extension TokenStoreTests {
    /// Stores a token issued just now and returns its generation.
    private func storedGeneration() async throws -> Int {
        let now = try await store.time().redisNow()
        _ = try await write("token-one", issued: -20 ... -10, at: now)
        return try #require(try await stored()?.generation)
    }

    private func watched(_ generation: Int, token: String? = "token-one") async throws -> [(index: Int, findings: TokenStore.WatchFinding)] {
        var list = TokenStore.WatchList()
        list.append(appid: appid, generation: generation, token: generation > 0 ? token : nil)
        return try await store.watch(list)
    }

    private func cleanUp() async throws { try await deleteKeys(withPrefix: store.keys.prefix, on: store.redis) }

    @Test func theWatchReturnsNothingForAnAppWhoseTokenIsAsRemembered() async throws {
        let generation = try await storedGeneration()
        #expect(try await watched(generation).isEmpty)
        #expect(try await watched(0).isEmpty, "a worker remembering no token only asks for the key")
        try await cleanUp()
    }

    @Test func theWatchReadsATokenTailThatHoldsSpaces() async throws {
        let now = try await store.time().redisNow()
        _ = try await write("a token with spaces", issued: -20 ... -10, at: now)
        let generation = try #require(try await stored()?.generation)
        #expect(try await watched(generation, token: "a token with spaces").isEmpty)
        #expect(try await watched(generation, token: "a token with spacer").first?.findings == .tokenDiffers)
        try await cleanUp()
    }

    @Test func theWatchFindsAMissingTokenKey() async throws {
        let generation = try await storedGeneration()
        try await store.redis.send("DEL", store.keys.accessToken(appid))
        let found = try await watched(generation)
        #expect(found.map(\.index) == [0] && found.first?.findings == .tokenDiffers)
        try await cleanUp()
    }

    @Test func theWatchFindsAMissingKeyWhoseTokenMetaStillHoldsForAWorkerRememberingNone() async throws {
        _ = try await storedGeneration()
        try await store.redis.send("DEL", store.keys.accessToken(appid))
        #expect(try await watched(0).first?.findings == .tokenDiffers, "a worker without memory re-seeds the key from meta")
        try await cleanUp()
    }

    @Test func theWatchIgnoresAnAppWithNoTokenAnywhereThatNoWorkerRemembers() async throws {
        var list = TokenStore.WatchList()
        list.append(appid: "wxneverstored")
        #expect(try await store.watch(list).isEmpty,
                "its pass fetches when due; a wake at every tick would only re-read an empty Redis")
    }

    @Test func theWatchFindsAKeySetByHandThatDiffersFromMeta() async throws {
        let generation = try await storedGeneration()
        try await store.redis.send("SET", store.keys.accessToken(appid), "hand-set")
        #expect(try await watched(generation).first?.findings == .tokenDiffers)
        try await cleanUp()
    }

    @Test func theWatchFindsAGenerationOtherThanTheRememberedOne() async throws {
        let generation = try await storedGeneration()
        #expect(try await watched(generation + 1).first?.findings == .tokenDiffers, "a restore put back an older token")
        try await cleanUp()
    }

    @Test func theWatchFindsAnotherTokenOfTheRememberedGeneration() async throws {
        let generation = try await storedGeneration()
        #expect(try await watched(generation, token: "token-two").first?.findings == .tokenDiffers,
                "a token written to a primary that lost it, and another stored since with the same generation")
        try await cleanUp()
    }

    @Test func theWatchFindsALeaseKeyWithoutTTL() async throws {
        let generation = try await storedGeneration()
        try await store.redis.send("SET", store.keys.lock(appid), "someone:1")
        #expect(try await watched(generation).first?.findings == .lockWithoutTTL)
        try await store.redis.send("PEXPIRE", store.keys.lock(appid), 10_000)
        #expect(try await watched(generation).isEmpty, "a lease with a TTL is a worker's ordinary lease")
        try await cleanUp()
    }

    @Test func theWatchFindsAStandingForcedRefresh() async throws {
        let generation = try await storedGeneration()
        try await store.redis.send("HSET", store.keys.meta(appid), "forced_at", 1)
        #expect(try await watched(generation).first?.findings == .forcedRefreshStanding)
        try await cleanUp()
    }

    @Test func theWatchReportsPositionsAcrossBatches() async throws {
        let generation = try await storedGeneration()
        let missing = TokenStore.watchBatch + 7
        var list = TokenStore.WatchList()
        for position in 0..<(3 * TokenStore.watchBatch / 2) {
            if position == missing {
                list.append(appid: "wxlostitstoken", generation: 3, token: "token-lost")
            } else {
                list.append(appid: appid, generation: generation, token: "token-one")
            }
        }
        let found = try await store.watch(list)
        #expect(found.map(\.index) == [missing])
        try await cleanUp()
    }
}
