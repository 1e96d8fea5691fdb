import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import TestSupport
import Testing

@testable import TokenCentral

/// What the HTTP API refuses to do without limit: keep half-sent connections, echo unbounded input,
/// park unbounded refresh waiters, report ready while Redis refuses its credentials.
@Suite(.timeLimit(.minutes(1))) struct HTTPBoundsTests {
    @Test func errorBodiesQuoteAtMost64CharactersOfTheAppID() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let appid = String(repeating: "x", count: 10_000)
            let response = try await worker.get("/v1/apps/\(appid)/access_token")
            #expect(response.status == .notFound)
            let reply = try response.reply()
            #expect(reply.error == "unknown_app")
            #expect(response.text.count < 300)
            #expect(reply.message?.contains("(10000 characters)") == true)
        }
    }

    @Test func refreshBodyOverTheDocumentedLimitIs413() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let body = #"{"bad_token":""# + String(repeating: "t", count: RefreshMessage.maximumSize) + #""}"#
            let response = try await worker.post("/v1/apps/\(HTTPTestWorker.appid)/refresh", body: body)
            #expect(response.status == .contentTooLarge)
            #expect(try response.reply().error == "payload_too_large")
        }
    }

    @Test func refreshPastTheWaiterCapIs503WithRetryAfter() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            try await worker.seedToken("current-token")
            let waiters = worker.application.refresher.refreshWaiters
            for _ in 0..<waiters.limit { #expect(waiters.admit()) }
            defer { for _ in 0..<waiters.limit { waiters.release() } }
            let response = try await worker.post("/v1/apps/\(HTTPTestWorker.appid)/refresh", body: #"{"bad_token":"current-token"}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "1")
            #expect(try response.reply().error == "busy")
        }
    }

    /// A waiting refresh request used to read Redis every 20 ms (about 200 pipelines until its deadline);
    /// without an announcement it now reads once a second.
    @Test func aWaitingRefreshDoesNotPollRedis() async throws {
        try await RedisServerProcess.with { server in
            let probe = try RedisClient(url: server.url, configuration: .init(poolSize: 1))
            try await HTTPTestWorker.withApplication(redisURL: server.url) { application, _ in
                let now = try await application.store.time().redisNow()
                _ = try await application.store.write(
                    appid: HTTPTestWorker.appid, token: "current-token", issued: now...now, lifetimeMillis: 30_000,
                    worker: "http-test", grant: .token)
                try await application.buildHTTPApplication().test(.router) { client in
                    let before = try await Self.commandsProcessed(probe)
                    let response = try await client.execute(
                        uri: "/v1/apps/\(HTTPTestWorker.appid)/refresh", method: .post,
                        body: ByteBuffer(string: #"{"bad_token":"current-token"}"#))
                    let commands = try await Self.commandsProcessed(probe) - before
                    #expect(response.status == .gatewayTimeout)
                    // The deadline is upstream.timeout (2 s) + 2 s: a handful of snapshots (3 commands
                    // each) plus the request's own reads, where polling every 20 ms took about 600.
                    #expect(commands < 60)
                }
            }
        }
    }

    private static func commandsProcessed(_ redis: RedisClient) async throws -> Int {
        let info = try await redis.send("INFO", "stats").string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("total_commands_processed:") }
        return Int(line?.split(separator: ":").last ?? "") ?? 0
    }

    @Test func halfSentRequestsAreClosedAfterTheIdleTimeout() async throws {
        try await HTTPTestWorker.withApplication(idleTimeout: .milliseconds(300)) { application, _ in
            try await application.buildHTTPApplication().test(.live) { client in
                let port = try #require(client.port)
                let sockets = try (0..<50).map { _ in try RawConnection(port: port) }
                defer { sockets.forEach { $0.close() } }
                for socket in sockets { socket.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ") }
                try await waitUntil("every half-sent request is closed by the server", timeout: .seconds(20)) {
                    sockets.allSatisfy { $0.isClosedByPeer }
                }
            }
        }
    }

    @Test(arguments: [
        (":wrong-password", "redis_authentication"),
        ("", "redis_authentication"),
    ])
    func readyzIs503WhenRedisRefusesTheCredentials(credentials: String, reason: String) async throws {
        let problems = try await RedisServerProcess.with { server in
            try await RedisClient(url: server.url, configuration: .init(poolSize: 1)).send("CONFIG", "SET", "requirepass", "the-password")
            let url = credentials.isEmpty ? server.url : "redis://\(credentials)@127.0.0.1:\(server.port)/0"
            return try await readinessProblems(redisURL: url)
        }
        #expect(problems.map(\.reason) == [reason])
        #expect(problems.first?.message.contains(credentials.isEmpty ? "NOAUTH" : "WRONGPASS") == true)
        #expect(problems.allSatisfy { !$0.message.contains("wrong-password") })
    }

    @Test func readyzIs503WhenTheACLUserMayNotRunTheProbe() async throws {
        let problems = try await RedisServerProcess.with { server in
            try await RedisClient(url: server.url, configuration: .init(poolSize: 1))
                .send("ACL", "SETUSER", "narrow", "on", ">narrow-password", "~*", "-@all", "+ping")
            return try await readinessProblems(redisURL: "redis://narrow:narrow-password@127.0.0.1:\(server.port)/0")
        }
        #expect(problems.map(\.reason) == ["redis_permission"])
        #expect(problems.first?.message.contains("NOPERM") == true)
    }

    @Test func readyzIs503WhenRedisRefusesTheDatabase() async throws {
        let shared = try RedisEndpoint(url: try sharedRedisURL())
        guard case .tcp(let host, let port) = shared.address else { return }
        let problems = try await readinessProblems(redisURL: "redis://\(host):\(port)/999")
        #expect(problems.map(\.reason) == ["redis_database"])
        #expect(problems.first?.message.contains("SELECT 999") == true)
    }

    /// The problems `/readyz` of a worker using `redisURL` names (its refresher is not run).
    private func readinessProblems(redisURL: String) async throws -> [HTTPReply.Problem] {
        var configuration = TokendConfiguration(workerID: "readiness-test", apps: [AppConfiguration(appid: "wxready", secret: Secret("s"))])
        configuration.redis.url = redisURL
        let application = try TokendApplication(
            configuration: configuration, logger: Logger(label: "readiness-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        return try await application.buildHTTPApplication().test(.router) { client in
            let response = try await client.execute(uri: "/readyz", method: .get)
            #expect(response.status == .serviceUnavailable)
            return try response.reply().problems ?? []
        }
    }
}
