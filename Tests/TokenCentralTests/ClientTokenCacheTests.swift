import Testing
import TokenCentralContract

/// The cache state machine alone (`TokenCentralClient`'s cache and a worker's token view), on plain instants.
@Suite struct ClientTokenCacheTests {
    let start = ContinuousClock.now

    func listeningCache(maxAge: Duration? = nil) -> TokenCache<String> {
        var cache = TokenCache<String>(maxAge: maxAge)
        cache.invalidateAll(listening: true)
        return cache
    }

    func ticket(_ cache: inout TokenCache<String>) throws -> TokenCache<String>.Ticket {
        guard case .miss(let ticket) = cache.lookup("wx1", now: start) else { throw CacheTestError.unexpectedHit }
        return ticket
    }

    func served(_ cache: inout TokenCache<String>, at instant: ContinuousClock.Instant) -> String? {
        guard case .hit(let token, _) = cache.lookup("wx1", now: instant) else { return nil }
        return token
    }

    @Test func hitUntilExpiry() throws {
        var cache = listeningCache()
        cache.store("wx1", "t", millisecondsLeft: 10_000, ticket: try ticket(&cache))
        #expect(cache.lookup("wx1", now: start + .seconds(9)) == .hit("t", expiresAt: start + .seconds(10)))
        #expect(served(&cache, at: start + .seconds(10)) == nil)
    }

    @Test func maxAgeEndsTheHitBeforeExpiry() throws {
        var cache = listeningCache(maxAge: .seconds(1))
        cache.store("wx1", "t", millisecondsLeft: 10_000, ticket: try ticket(&cache))
        #expect(served(&cache, at: start + .milliseconds(999)) == "t")
        #expect(served(&cache, at: start + .seconds(1)) == nil)
        #expect(cache.count == 0)
    }

    @Test func zeroMaxAgeKeepsNothing() throws {
        var cache = listeningCache(maxAge: .zero)
        cache.store("wx1", "t", millisecondsLeft: 10_000, ticket: try ticket(&cache))
        #expect(cache.count == 0)
    }

    @Test func readOverlappingAnInvalidationIsNotStored() throws {
        var cache = listeningCache()
        let stale = try ticket(&cache)
        cache.invalidate("wx1")
        cache.store("wx1", "old", millisecondsLeft: 10_000, ticket: stale)
        #expect(served(&cache, at: start) == nil)
    }

    @Test func nothingIsStoredWhileNotListening() throws {
        var cache = TokenCache<String>()
        cache.store("wx1", "t", millisecondsLeft: 10_000, ticket: try ticket(&cache))
        #expect(served(&cache, at: start) == nil)
    }

    @Test func stoppingDropsEverything() throws {
        var cache = listeningCache()
        cache.store("wx1", "t", millisecondsLeft: 10_000, ticket: try ticket(&cache))
        cache.invalidateAll(listening: false)
        #expect(!cache.isListening)
        #expect(served(&cache, at: start) == nil)
    }

    @Test func announcementDropsOnlyTheAnnouncedApp() throws {
        var cache = listeningCache()
        cache.store("wx1", "t", millisecondsLeft: 10_000, ticket: try ticket(&cache))
        cache.hear(Array(#"{"appid":"wx2","generation":2,"expires_at":1}"#.utf8))
        #expect(served(&cache, at: start) == "t")
        cache.hear(Array(#"{"appid":"wx1","generation":2,"expires_at":1}"#.utf8))
        #expect(served(&cache, at: start) == nil)
    }

    @Test func unreadableAnnouncementDropsEverything() throws {
        var cache = listeningCache()
        cache.store("wx1", "t", millisecondsLeft: 10_000, ticket: try ticket(&cache))
        #expect(cache.hear(Array("garbage".utf8)) == nil)
        #expect(cache.isListening)
        #expect(served(&cache, at: start) == nil)
    }

    enum CacheTestError: Error { case unexpectedHit }
}
