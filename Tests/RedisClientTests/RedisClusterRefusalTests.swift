import RedisClient
import TestSupport
import Testing

/// Redis Cluster is refused (see docs/redis-contract.md): the client does not follow MOVED/ASK.
@Suite(.timeLimit(.minutes(1))) struct RedisClusterRefusalTests {
    @Test func clusterNodeIsRefusedNamingTheEndpointAndTheAlternatives() async throws {
        let server = try await ConfiguredRedisServer(arguments: ["--cluster-enabled", "yes", "--cluster-port", "\(try freeLoopbackPort())"])
        let client = RedisClient(endpoint: server.endpoint())
        let error = await #expect(throws: RedisError.self) { try await client.get("k") }
        #expect(error?.code == .unsupportedServer)
        #expect(error?.endpoint == "redis://localhost:\(server.port)/0")
        #expect(error?.message.contains("Sentinel") == true)
        #expect(error?.message.contains("cluster proxy") == true)
    }

    @Test func clusterNodeIsRefusedForAUserThatMayOnlyGET() async throws {
        let server = try await ConfiguredRedisServer(arguments: ["--cluster-enabled", "yes", "--cluster-port", "\(try freeLoopbackPort())", "--user", "reader", "on", ">pw", "~*", "+get"])
        let client = RedisClient(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: server.port), username: "reader", password: "pw"))
        let error = await #expect(throws: RedisError.self) { try await client.get("k") }
        #expect(error?.code == .unsupportedServer)
    }

    @Test func refusalAtStartupIgnoresARedisThatIsDown() async throws {
        let client = RedisClient(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: try freeLoopbackPort())))
        try await client.refuseUnsupportedServer()
    }

    @Test func redirectionReplyIsExplainedAsClusterMode() {
        let error = RedisError(reply: "MOVED 3999 127.0.0.1:6381", endpoint: "redis://127.0.0.1:6379/0")
        #expect(error.code == .unsupportedServer)
        #expect(error.message.hasSuffix("(the server replied: MOVED 3999 127.0.0.1:6381)"))
    }

    @Test func otherErrorReplyIsAServerError() {
        let error = RedisError(reply: "WRONGTYPE Operation against a key holding the wrong kind of value", endpoint: "r")
        #expect(error.code == .server)
        #expect(error.serverErrorPrefix == "WRONGTYPE")
    }
}
