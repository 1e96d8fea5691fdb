import ArgumentParser
import RedisClient
import TokenCentralClient

/// `tokencentral-bench client-read`: reads per second of `TokenCentralClient.accessToken(for:)` (served
/// from its in-process cache) and of a plain `GET` of the same key through `RedisClient`, in one run.
struct ClientReadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client-read", abstract: "Cached token reads vs Redis GETs, per second: prints 'cached get'.")

    @Option(help: "Redis URL.") var url: String
    @Option(help: "Reads of each kind.") var requests = 100_000

    func run() async throws {
        let redis = try RedisClient(url: url, configuration: .init(poolSize: 1))
        let appid = "wxbench"
        let key = "bench:{\(appid)}:access_token"
        try await redis.send("SET", key, String(repeating: "t", count: 136), "PX", 600_000)
        let client = TokenCentralClient(redis: redis, keyPrefix: "bench")
        // The cache is used only while the client listens for announcements.
        let listening = Task { await client.run() }
        defer { listening.cancel() }
        while try await redis.send("PUBSUB", "NUMSUB", "bench:refreshed").array?[1].integer ?? 0 == 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        for _ in 0..<1000 { _ = try await client.accessToken(for: appid) }  // warm up and fill the cache

        let cached = try await Self.perSecond(requests) { _ = try await client.accessToken(for: appid) }
        let get = RedisCommand("GET", key)
        let direct = try await Self.perSecond(requests) { _ = try await redis.send(get) }
        print(cached, direct)
    }

    static func perSecond(_ count: Int, _ body: () async throws -> Void) async throws -> Int {
        let started = ContinuousClock.now
        for _ in 0..<count { try await body() }
        let elapsed = ContinuousClock.now - started
        return Int(Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }
}
