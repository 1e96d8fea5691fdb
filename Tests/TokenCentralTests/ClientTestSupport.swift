import RedisClient
import Synchronization
import TestSupport
@testable import TokenCentralClient
import TokenCentralContract

/// One app's token key on its own prefix of a Redis, written by hand as tokend would.
struct ClientFixture {
    let redis: RedisClient
    let prefix = uniquePrefix("client")
    let appid = "wxclient"

    init(url: String) throws {
        redis = try RedisClient(url: url, configuration: .init(
            reconnectBackoff: .init(initial: .milliseconds(10), maximum: .milliseconds(100))))
    }

    var tokenKey: String { "\(prefix):{\(appid)}:access_token" }

    func writeToken(_ token: String, ttl: Duration = .seconds(60)) async throws {
        try await redis.send("SET", tokenKey, token, "PX", Int(ttl.components.seconds * 1000))
    }

    /// What a worker publishes after writing a new token.
    func announce(appid: String? = nil, generation: Int) async throws {
        let payload = #"{"appid":"\#(appid ?? self.appid)","generation":\#(generation),"expires_at":0}"#
        try await redis.publish("\(prefix):refreshed", payload)
    }

    func cleanUp() async throws {
        try await redis.delete(tokenKey)
    }

    /// Runs `body` with a client whose `run()` listens on `P:refreshed` (so its cache is in use), then stops it.
    func withListeningClient<T: Sendable>(_ body: (TokenCentralClient) async throws -> T) async throws -> T {
        let client = TokenCentralClient(redis: redis, keyPrefix: prefix)
        return try await withThrowingTaskGroup { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await waitUntil("client listens on \(prefix):refreshed") { client.isListening }
            return try await body(client)
        }
    }
}

extension TokenCentralClient {
    var isListening: Bool { cache.withLock { $0.isListening } }
}
