import RedisClient
import Testing

/// How a sentinel is written in `redis.sentinel.addresses` and `tokenctl --sentinel`.
@Suite struct RedisSentinelConfigurationTests {
    @Test func aHostAloneGetsTheSentinelPort() throws {
        #expect(try RedisSentinelConfiguration.sentinel("10.0.0.11").address == .tcp(host: "10.0.0.11", port: 26379))
    }

    @Test func aHostAndPortAreTakenAsWritten() throws {
        #expect(try RedisSentinelConfiguration.sentinel("sentinel-a:26380").address == .tcp(host: "sentinel-a", port: 26380))
        #expect(try RedisSentinelConfiguration.sentinel("[::1]:26381").address == .tcp(host: "::1", port: 26381))
        #expect(try RedisSentinelConfiguration.sentinel("[::1]").address == .tcp(host: "::1", port: 26379))
    }

    @Test func aURLCarriesTheSentinelsCredentials() throws {
        let sentinel = try RedisSentinelConfiguration.sentinel("redis://watcher:s3cret@10.0.0.12:26379")
        #expect(sentinel.username == "watcher")
        #expect(sentinel.password == "s3cret")
        #expect(!sentinel.description.contains("s3cret"))
    }

    @Test func aMalformedPortIsRefused() {
        #expect(throws: RedisError.self) { try RedisSentinelConfiguration.sentinel("10.0.0.11:sentinel") }
    }

    @Test func theDataNodeDefaultsToTheMasterName() {
        let configuration = RedisSentinelConfiguration(
            masterName: "mymaster", sentinels: [RedisEndpoint(address: .tcp(host: "10.0.0.11", port: 26379))])
        #expect(configuration.dataNode.description == "redis://mymaster:6379/0")
    }
}
