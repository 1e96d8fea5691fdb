import ArgumentParser

/// Benchmarks run by `make bench` (scripts/bench.sh); each prints its figures on one line so the script can form ratios.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokencentral-bench",
        abstract: "Micro-benchmarks of TokenCentral, printed as requests per second.",
        subcommands: [RedisGetBenchmark.self, ClientReadBenchmark.self, ConfigParseBenchmark.self])
}
