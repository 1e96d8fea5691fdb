import Foundation
import RedisClient
import TestSupport
import Testing

@Suite struct RedisClientConnectionTests {
    @Test func commandTimeoutFailsWithTimeout() async throws {
        let client = try RedisClient(url: try sharedRedisURL(), configuration: .init(commandTimeout: .milliseconds(200)))
        let started = ContinuousClock.now
        do {
            // BLPOP blocks this connection only, server side, for 5 s: longer than the 200 ms timeout.
            try await client.send("BLPOP", uniquePrefix("never"), 5)
            Issue.record("expected a timeout")
        } catch {
            #expect(error.code == .timeout)
            #expect(error.isConnectionError)
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        try await client.ping()  // the timed-out connection was replaced
    }

    @Test func reconnectsAfterServerRestart() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let client = try RedisClient(url: server.url, configuration: .init(
            poolSize: 2, reconnectBackoff: .init(initial: .milliseconds(10), maximum: .milliseconds(100))))
        try await client.set("k", "before")
        try await server.restart()
        try await waitUntil("client works after restart") { (try? await client.set("k", "after")) != nil }
        #expect(try await client.get("k") == Array("after".utf8))
    }

    @Test func connectsOverUnixSocket() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let client = try RedisClient(url: "unix://\(server.socketPath)")
        try await client.set("k", "via-socket")
        #expect(try await client.get("k") == Array("via-socket".utf8))
    }

    @Test func refusedConnectionIsAConnectionError() async throws {
        let port = try freeLoopbackPort()
        let client = try RedisClient(url: "redis://127.0.0.1:\(port)")
        do {
            try await client.ping()
            Issue.record("expected a connection error")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
    }

    @Test func failedConnectsBackOffInsteadOfHammering() async throws {
        let port = try freeLoopbackPort()
        let client = try RedisClient(url: "redis://127.0.0.1:\(port)",
                                     configuration: .init(reconnectBackoff: .init(initial: .seconds(5), maximum: .seconds(5))))
        _ = try? await client.ping()
        do {
            try await client.ping()
            Issue.record("expected a connection error")
        } catch {
            #expect(error.message.contains("next connection attempt"))
        }
    }

    @Test func aclUserWithWrongPasswordGetsAClearError() async throws {
        let admin = try RedisClient(url: try sharedRedisURL())
        let user = uniquePrefix("acl")
        try await admin.send("ACL", "SETUSER", user, "on", ">right-password", "~*", "+@all")
        defer { Task { try? await admin.send("ACL", "DELUSER", user) } }
        let base = try RedisEndpoint(url: try sharedRedisURL())
        let wrong = RedisClient(endpoint: RedisEndpoint(address: base.address, username: user, password: "wrong-password"))
        do {
            try await wrong.ping()
            Issue.record("expected an authentication error")
        } catch {
            #expect(error.code == .authenticationFailed)
            #expect(error.message.contains(user))
            #expect(!error.description.contains("wrong-password"))
        }
        let right = RedisClient(endpoint: RedisEndpoint(address: base.address, username: user, password: "right-password"))
        try await right.ping()
    }
}
