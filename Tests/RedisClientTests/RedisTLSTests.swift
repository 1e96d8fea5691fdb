import Foundation
import RedisClient
import TestSupport
import Testing

/// `rediss://` against Debian's redis-server with `--tls-port` only, with certificates made at test time.
@Suite(.timeLimit(.minutes(1))) struct RedisTLSTests {
    private static let fastRetry = RedisClientConfiguration(
        poolSize: 1, reconnectBackoff: .init(initial: .milliseconds(10), maximum: .milliseconds(50)))

    @Test func commandsRunOverTLS() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki)
        let client = RedisClient(endpoint: server.endpoint(tls: pki.configuration()))
        try await client.set("k", "over tls")
        #expect(try await client.get("k") == Array("over tls".utf8))
        let pipelined = try await client.pipeline([RedisCommand("INCR", "n"), RedisCommand("INCR", "n")])
        #expect(pipelined == [.integer(1), .integer(2)])
    }

    @Test func redissURLTrustsTheSystemCAsNotATestCA() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki)
        let client = try RedisClient(url: "rediss://localhost:\(server.port)/0", configuration: Self.fastRetry)
        #expect(client.endpoint.description.hasPrefix("rediss://"))
        let error = await #expect(throws: RedisError.self) { try await client.ping() }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("did not verify") == true)
    }

    @Test func subscriptionReceivesMessagesOverTLS() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki)
        let client = RedisClient(endpoint: server.endpoint(tls: pki.configuration()))
        var events = client.subscribe(channels: ["c"]).makeAsyncIterator()
        #expect(await events.next() == .subscribed)
        try await client.publish("c", "hello")
        #expect(await events.next() == .message(RedisPubSubMessage(channel: "c", payload: Array("hello".utf8))))
    }

    @Test func serverCertificateFromAnotherCAIsRefusedNamingTheCAFile() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki)
        let client = RedisClient(
            endpoint: server.endpoint(tls: RedisTLSConfiguration(caFile: pki.otherCAFile)), configuration: Self.fastRetry)
        let error = await #expect(throws: RedisError.self) { try await client.ping() }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("the server certificate did not verify") == true)
        #expect(error?.message.contains("ca_file") == true)
        #expect(error?.endpoint == "rediss://localhost:\(server.port)/0")
    }

    @Test func hostNameTheCertificateDoesNotListIsRefused() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki)
        let client = RedisClient(endpoint: server.endpoint(host: "127.0.0.1", tls: pki.configuration()), configuration: Self.fastRetry)
        let error = await #expect(throws: RedisError.self) { try await client.ping() }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("not valid for '127.0.0.1'") == true)
        #expect(error?.message.contains("server_name") == true)
    }

    @Test func serverNameAcceptsACertificateIssuedForThatName() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki)
        let client = RedisClient(endpoint: server.endpoint(host: "127.0.0.1", tls: pki.configuration(serverName: "redis.test")))
        try await client.ping()
    }

    @Test func clientCertificateIsAcceptedByAServerThatRequiresOne() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki, requireClientCertificates: true)
        let client = RedisClient(endpoint: server.endpoint(tls: pki.configuration(client: true)))
        try await client.set("k", "v")
        #expect(try await client.get("k") == Array("v".utf8))
    }

    @Test func serverThatRequiresAClientCertificateRefusesAClientWithout() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki, requireClientCertificates: true)
        let client = RedisClient(endpoint: server.endpoint(tls: pki.configuration()), configuration: Self.fastRetry)
        let error = await #expect(throws: RedisError.self) { try await client.ping() }
        #expect(error?.isConnectionError == true)
        #expect(error?.message.contains("cert_file and key_file") == true, "\(String(describing: error))")
    }

    @Test func commandTimeoutBoundsAReplyOverTLS() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki)
        let client = RedisClient(
            endpoint: server.endpoint(tls: pki.configuration()), configuration: .init(commandTimeout: .milliseconds(200)))
        let started = ContinuousClock.now
        let error = await #expect(throws: RedisError.self) { try await client.send("BLPOP", "never", 5) }
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - started < .seconds(2))
        try await client.ping()
    }

    @Test func idleConnectionIsReusedOverTLS() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki)
        let client = RedisClient(endpoint: server.endpoint(tls: pki.configuration()), configuration: .init(poolSize: 1))
        let first = try await client.send("CLIENT", "ID")
        // Past the idle time after which a connection's socket is checked before reuse: TLS session
        // tickets the server sent must not count as a closed connection.
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await client.send("CLIENT", "ID") == first)
    }

    @Test func connectionTheServerClosedWhileIdleIsReplaced() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki)
        let client = RedisClient(endpoint: server.endpoint(tls: pki.configuration()), configuration: .init(poolSize: 1))
        let first = try #require(try await client.send("CLIENT", "ID").integer)
        let admin = RedisClient(endpoint: server.endpoint(tls: pki.configuration()), configuration: .init(poolSize: 1))
        try await admin.send("CLIENT", "KILL", "ID", first)
        // Past the idle time after which a connection's socket is checked before reuse.
        try await Task.sleep(for: .milliseconds(150))
        let second = try #require(try await client.send("CLIENT", "ID").integer)
        #expect(second != first)
    }
}
