import Testing
@testable import TokenCentralClient

/// The cache state machine alone, on plain instants.
@Suite struct ClientTokenCacheTests {
    let start = ContinuousClock.now

    func listeningCache() -> TokenCache {
        var cache = TokenCache()
        cache.invalidateAll(listening: true)
        return cache
    }

    func entry(_ token: String, validFor seconds: Int64) -> TokenCache.Entry {
        TokenCache.Entry(token: token, expiresAt: start + .seconds(seconds))
    }

    func ticket(_ cache: inout TokenCache) throws -> TokenCache.Ticket {
        guard case .miss(let ticket) = cache.lookup("wx1", now: start) else { throw CacheTestError.unexpectedHit }
        return ticket
    }

    @Test func hitUntilExpiry() throws {
        var cache = listeningCache()
        cache.store("wx1", entry("t", validFor: 10), ticket: try ticket(&cache))
        #expect(cache.lookup("wx1", now: start + .seconds(9)) == .hit("t"))
        #expect(cache.lookup("wx1", now: start + .seconds(10)) != .hit("t"))
    }

    @Test func readOverlappingAnInvalidationIsNotStored() throws {
        var cache = listeningCache()
        let stale = try ticket(&cache)
        cache.invalidate("wx1")
        cache.store("wx1", entry("old", validFor: 10), ticket: stale)
        #expect(cache.lookup("wx1", now: start) != .hit("old"))
    }

    @Test func nothingIsStoredWhileNotListening() throws {
        var cache = TokenCache()
        cache.store("wx1", entry("t", validFor: 10), ticket: try ticket(&cache))
        #expect(cache.lookup("wx1", now: start) != .hit("t"))
    }

    @Test func stoppingDropsEverything() throws {
        var cache = listeningCache()
        cache.store("wx1", entry("t", validFor: 10), ticket: try ticket(&cache))
        cache.invalidateAll(listening: false)
        #expect(!cache.isListening)
        #expect(cache.lookup("wx1", now: start) != .hit("t"))
    }

    enum CacheTestError: Error { case unexpectedHit }
}
