import RedisClient
import TestSupport
import Testing

/// A real replicated Redis under three real sentinels (`SentinelFixture`), on loopback. One test at a time:
/// five processes each, and failover timing that must hold on a loaded 2-core machine.
@Suite(.serialized) struct RedisSentinelTests {
    /// Short timeouts and backoff: a test waits for the failover, not for the client's retries.
    private static let quick = RedisClientConfiguration(
        poolSize: 2, connectTimeout: .milliseconds(500), commandTimeout: .milliseconds(500),
        reconnectBackoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)))

    @Test func theSentinelsNameThePrimaryCommandsGoTo() async throws {
        try await withSentinelFixture { fixture in
            let client = RedisClient(sentinel: fixture.configuration, configuration: Self.quick)
            try await client.set("k", "v")
            #expect(client.endpoint.address == .tcp(host: "127.0.0.1", port: fixture.nodePorts[0]))
            let role = try await client.send("ROLE").array?.first?.string
            #expect(role == "master")
        }
    }

    @Test func aSentinelThatDoesNotAnswerIsSkipped() async throws {
        try await withSentinelFixture { fixture in
            var configuration = fixture.configuration
            let dead = RedisEndpoint(address: .tcp(host: "127.0.0.1", port: try freeLoopbackPort()))
            configuration.sentinels.insert(dead, at: 0)
            let client = RedisClient(sentinel: configuration, configuration: Self.quick)
            try await client.set("k", "v")
            #expect(client.endpoint.address == .tcp(host: "127.0.0.1", port: fixture.nodePorts[0]))
        }
    }

    @Test func sentinelsWithAPasswordAreAskedWithIt() async throws {
        try await withSentinelFixture(sentinelPassword: "sentinel-secret") { fixture in
            let client = RedisClient(sentinel: fixture.configuration, configuration: Self.quick)
            try await client.set("k", "v")
            #expect(client.endpoint.address == .tcp(host: "127.0.0.1", port: fixture.nodePorts[0]))

            var withoutPassword = fixture.configuration
            withoutPassword.sentinels = withoutPassword.sentinels.map { RedisEndpoint(address: $0.address) }
            let refused = RedisClient(sentinel: withoutPassword, configuration: Self.quick)
            let error = await #expect(throws: RedisError.self) { try await refused.ping() }
            #expect(error?.message.contains("NOAUTH") == true)
            #expect(error?.message.contains("sentinel-secret") == false)
        }
    }

    @Test func anUnknownMasterNameIsAClearError() async throws {
        try await withSentinelFixture { fixture in
            var configuration = fixture.configuration
            configuration.masterName = "no-such-master"
            let client = RedisClient(sentinel: configuration, configuration: Self.quick)
            let error = await #expect(throws: RedisError.self) { try await client.ping() }
            #expect(error?.code == .connectionFailed)
            #expect(error?.message.contains("does not monitor a master named 'no-such-master'") == true)
        }
    }

    @Test func commandsReachTheNewPrimaryAfterItsPredecessorIsKilled() async throws {
        try await withSentinelFixture { fixture in
            let client = RedisClient(sentinel: fixture.configuration, configuration: Self.quick)
            try await client.set("before", "1")
            let old = try await fixture.killPrimary()
            let new = try await fixture.waitForFailover(from: old)
            try await waitUntil("a write through the client succeeds", timeout: .seconds(10)) {
                (try? await client.set("after", "2")) != nil
            }
            #expect(client.endpoint.address == .tcp(host: "127.0.0.1", port: new))
            #expect(try await client.get("before") == Array("1".utf8))  // replicated before the kill
        }
    }

    @Test func theSubscriptionMovesToTheNewPrimary() async throws {
        try await withSentinelFixture { fixture in
            let client = RedisClient(sentinel: fixture.configuration, configuration: Self.quick)
            var events = client.subscribe(channels: ["c"]).makeAsyncIterator()
            #expect(await events.next() == .subscribed)
            let old = try await fixture.primaryPort()
            try await fixture.requestFailover()
            let new = try await fixture.waitForFailover(from: old)
            // The old primary, now a replica, keeps the connection open: only +switch-master moves it.
            #expect(await events.next() == .subscribed)
            let publisher = RedisClient(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: new)))
            #expect(try await publisher.publish("c", "on-the-new-primary") == 1)
            #expect(await events.next() == .message(RedisPubSubMessage(channel: "c", payload: Array("on-the-new-primary".utf8))))
        }
    }

    @Test func aReadOnlyReplyMakesTheClientAskTheSentinelsAgain() async throws {
        try await withSentinelFixture { fixture in
            // The client knows two sentinels and watches the first, which is paused: it never hears of the
            // change. An operator moves the primary by hand (Sentinel would disconnect the old primary's
            // clients; REPLICAOF does not) and points the second sentinel at the new one: only the READONLY
            // on the client's open connection can tell it to ask again.
            var configuration = fixture.configuration
            configuration.sentinels = Array(configuration.sentinels.prefix(2))
            var one = Self.quick
            one.poolSize = 1
            let client = RedisClient(sentinel: configuration, configuration: one)
            try await client.set("k", "before")
            let (old, new) = (fixture.nodePorts[0], fixture.nodePorts[1])
            fixture.pauseSentinel(0)
            defer { fixture.resumeSentinel(0) }
            let master = SentinelFixture.masterName
            try await fixture.send(port: fixture.sentinelPorts[1], RedisCommand("SENTINEL", "REMOVE", master))
            try await fixture.send(port: fixture.sentinelPorts[1], RedisCommand("SENTINEL", "MONITOR", master, "127.0.0.1", new, 2))
            try await fixture.send(port: new, RedisCommand("REPLICAOF", "NO", "ONE"))
            try await fixture.send(port: old, RedisCommand("REPLICAOF", "127.0.0.1", new))
            try await client.set("k", "after")  // READONLY on the old primary, then sent again to the new one
            #expect(client.endpoint.address == .tcp(host: "127.0.0.1", port: new))
            #expect(try await fixture.send(port: new, RedisCommand("GET", "k")) == .bulk(Array("after".utf8)))
        }
    }
}
