import RedisClient
import TestSupport
import Testing

@Suite struct RedisSubscriptionTests {
    @Test func receivesChannelMessages() async throws {
        let client = try RedisClient(url: try sharedRedisURL())
        let channel = uniquePrefix("chan")
        var events = client.subscribe(channels: [channel]).makeAsyncIterator()
        #expect(await events.next() == .subscribed)
        try await client.publish(channel, [0, 1, 2] as [UInt8])
        #expect(await events.next() == .message(RedisPubSubMessage(channel: channel, payload: [0, 1, 2])))
    }

    @Test func receivesPatternMessages() async throws {
        let client = try RedisClient(url: try sharedRedisURL())
        let prefix = uniquePrefix("pat")
        var events = client.subscribe(patterns: ["\(prefix):*"]).makeAsyncIterator()
        #expect(await events.next() == .subscribed)
        try await client.publish("\(prefix):a", "hello")
        let expected = RedisPubSubMessage(channel: "\(prefix):a", pattern: "\(prefix):*", payload: Array("hello".utf8))
        #expect(await events.next() == .message(expected))
    }

    @Test func survivesServerRestart() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let client = try RedisClient(url: server.url, configuration: .init(
            reconnectBackoff: .init(initial: .milliseconds(10), maximum: .milliseconds(100))))
        var events = client.subscribe(channels: ["c"]).makeAsyncIterator()
        #expect(await events.next() == .subscribed)
        try await server.restart()
        #expect(await events.next() == .subscribed)  // resubscribed on a new connection
        try await waitUntil("publish reaches the resubscribed listener") {
            (try? await client.publish("c", "after-restart")) == 1
        }
        #expect(await events.next() == .message(RedisPubSubMessage(channel: "c", payload: Array("after-restart".utf8))))
    }

    @Test func cancellingTheConsumerUnsubscribes() async throws {
        let client = try RedisClient(url: try sharedRedisURL())
        let channel = uniquePrefix("cancel")
        let consumer = Task {
            for await _ in client.subscribe(channels: [channel]) {}
        }
        try await waitUntil("subscriber registered") { try await subscriberCount(client, channel) == 1 }
        consumer.cancel()
        try await waitUntil("subscriber gone") { try await subscriberCount(client, channel) == 0 }
    }

    private func subscriberCount(_ client: RedisClient, _ channel: String) async throws -> Int {
        try await client.send("PUBSUB", "NUMSUB", channel).array?[1].integer ?? -1
    }
}
