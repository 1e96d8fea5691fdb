import RedisClient
import Testing

@Suite struct RedisEndpointTests {
    @Test func parsesHostPortAndDatabase() throws {
        let endpoint = try RedisEndpoint(url: "redis://10.0.0.5:6380/2")
        #expect(endpoint.address == .tcp(host: "10.0.0.5", port: 6380))
        #expect(endpoint.database == 2)
        #expect(endpoint.password == nil)
    }

    @Test func redissURLTurnsOnTLSWithDefaultVerification() throws {
        let endpoint = try RedisEndpoint(url: "rediss://app:pw@cache.internal:6380/1")
        #expect(endpoint.address == .tcp(host: "cache.internal", port: 6380))
        #expect(endpoint.tls == RedisTLSConfiguration())
        #expect(endpoint.description == "rediss://app:***@cache.internal:6380/1")
    }

    @Test func redisURLHasNoTLS() throws {
        #expect(try RedisEndpoint(url: "redis://cache.internal").tls == nil)
    }

    @Test func defaultsPortAndDatabase() throws {
        let endpoint = try RedisEndpoint(url: "redis://localhost")
        #expect(endpoint.address == .tcp(host: "localhost", port: 6379))
        #expect(endpoint.database == 0)
    }

    @Test func parsesPasswordOnly() throws {
        let endpoint = try RedisEndpoint(url: "redis://:s3cret@127.0.0.1:6379")
        #expect(endpoint.username == nil)
        #expect(endpoint.password == "s3cret")
    }

    @Test func userWithoutColonIsAUserWithoutPassword() throws {
        let endpoint = try RedisEndpoint(url: "redis://tokend@127.0.0.1:6379")
        #expect(endpoint.username == "tokend")
        #expect(endpoint.password == nil)
        #expect(endpoint.description == "redis://tokend@127.0.0.1:6379/0")
    }

    @Test func parsesACLUserAndPercentEncodedPassword() throws {
        let endpoint = try RedisEndpoint(url: "redis://tokend:p%40ss@127.0.0.1:6379/1")
        #expect(endpoint.username == "tokend")
        #expect(endpoint.password == "p@ss")
    }

    @Test func parsesUnixSocketWithDatabase() throws {
        let endpoint = try RedisEndpoint(url: "unix:///run/redis/redis.sock?db=3")
        #expect(endpoint.address == .unix(path: "/run/redis/redis.sock"))
        #expect(endpoint.database == 3)
    }

    @Test func parsesIPv6Literal() throws {
        let endpoint = try RedisEndpoint(url: "redis://[::1]:7000")
        #expect(endpoint.address == .tcp(host: "::1", port: 7000))
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let endpoint = try RedisEndpoint(url: "redis://tokend:hunter2@127.0.0.1:6379/1")
        #expect(endpoint.description == "redis://tokend:***@127.0.0.1:6379/1")
    }

    @Test(arguments: ["http://x", "redis://", "redis://host:notaport", "redis://host:70000", "redis://host/x", "unix://relative.sock"])
    func rejectsInvalidURL(url: String) {
        #expect(throws: RedisError.self) { try RedisEndpoint(url: url) }
    }

    @Test func invalidURLErrorHidesThePassword() {
        do {
            _ = try RedisEndpoint(url: "redis://u:hunter2@host:bad")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidURL)
            #expect(!error.description.contains("hunter2"))
        }
    }
}
