import ArgumentParser
import RedisClient

/// `tokencentral-bench redis-get`: GET throughput of the Swift client, shaped like `redis-benchmark -t get`
/// so `scripts/bench.sh` can print the two as a ratio measured in the same run.
struct RedisGetBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-get", abstract: "GET requests per second through RedisClient.")

    @Option(help: "Redis URL.") var url: String
    @Option(help: "Total GET requests.") var requests = 100_000
    @Option(help: "Requests in flight: 1 = sequential, N = pipelines of N (like redis-benchmark -P N).")
    var pipeline = 1
    @Option(help: "Key to GET (redis-benchmark uses key:__rand_int__ → key:000000000000).")
    var key = "key:000000000000"
    @Option(help: "Microseconds each reply is busy-waited for before a blocking read (RedisClientConfiguration.replySpin); 0 always sleeps, like redis-benchmark.")
    var replySpin = 30
    @Option(help: "With a rediss:// URL: PEM file of the CA that signed the server's certificate.")
    var tlsCaFile: String?

    func run() async throws {
        var endpoint = try RedisEndpoint(url: url)
        if endpoint.tls != nil { endpoint.tls?.caFile = tlsCaFile }
        let client = RedisClient(endpoint: endpoint, configuration: .init(poolSize: 1, replySpin: .microseconds(replySpin)))
        let get = RedisCommand("GET", key)
        let batch = [RedisCommand](repeating: get, count: pipeline)
        try await client.send(get)  // connect outside the timed loop, as redis-benchmark does
        // One connection, one request (or one pipeline) in flight at a time: the shape of redis-benchmark -c 1.
        let rate = try await client.withPinnedConnection { connection in
            if pipeline == 1 {
                return try await ClientReadBenchmark.perSecond(requests) { _ = try await connection.send(get) }
            }
            return try await ClientReadBenchmark.perSecond(requests / pipeline) { _ = try await connection.pipeline(batch) } * pipeline
        }
        print(rate)
    }
}
