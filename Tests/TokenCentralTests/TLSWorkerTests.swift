import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// A worker over a Redis that accepts only TLS with client certificates, and a worker refusing a cluster.
@Suite(.timeLimit(.minutes(1))) struct TLSWorkerTests {
    @Test func workerStoresATokenThroughATLSRedis() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki, requireClientCertificates: true)
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxtls": "s1"])
        try await WorkerFleet.run(
            workers: 1, apps: [.app("wxtls", secret: "s1")], mock: mock, redisURL: "rediss://localhost:\(server.port)/0",
            configure: { $0.redis.tls = pki.configuration(client: true) }
        ) { fleet, _ in
            try await fleet.waitForGeneration("wxtls", atLeast: 1)
            let token = try #require(try await fleet.currentToken("wxtls"))
            #expect(fleet.mock.validate(token: token) == .ok)
        }
    }

    @Test func tokenctlReadsATokenOverTLSWithClientCertificateOptions() async throws {
        let pki = try await TLSFixture()
        let server = try await ConfiguredRedisServer(tls: pki, requireClientCertificates: true)
        let keys = TokenKeys(prefix: "tls")
        let redis = RedisClient(endpoint: server.endpoint(tls: pki.configuration(client: true)))
        try await redis.send("SET", keys.accessToken("wxtls"), "tls-token", "PX", 60_000)
        let outcome = try await Tokenctl().run([
            "--redis-url", "rediss://127.0.0.1:\(server.port)/0", "--prefix", "tls", "--tls-ca-file", pki.caFile,
            "--tls-cert-file", pki.clientCertificateFile, "--tls-key-file", pki.clientKeyFile, "--tls-server-name", "redis.test",
            "get", "wxtls",
        ])
        #expect(outcome.output == "tls-token\n")
    }

    @Test func workerRefusesARedisClusterNodeAtStartup() async throws {
        let server = try await ConfiguredRedisServer(arguments: ["--cluster-enabled", "yes", "--cluster-port", "\(try freeLoopbackPort())"])
        var configuration = TokendConfiguration(workerID: "w", apps: [.app("wxcluster", secret: "s1")])
        configuration.redis.url = "redis://127.0.0.1:\(server.port)/0"
        configuration.http.enabled = false
        let application = try TokendApplication(configuration: configuration, logger: WorkerFleet.logger)
        let error = await #expect(throws: RedisError.self) { try await application.run() }
        #expect(error?.code == .unsupportedServer)
    }
}
