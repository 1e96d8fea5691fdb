import ArgumentParser
import Foundation
import TokenCentral

/// `tokencentral-bench config-parse`: seconds to parse and validate a configuration of `--apps` apps,
/// each with its own secret variable, as `tokend` does at startup (secrets resolved, every check run).
struct ConfigParseBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-parse", abstract: "Seconds to load a configuration of many apps: prints 'seconds apps'.")

    @Option(help: "Apps in the generated configuration.") var apps = 100_000

    func run() async throws {
        var yaml = "redis: {url: 'redis://127.0.0.1:6379/0', key_prefix: bench}\nworker: {id: bench}\napps:\n"
        var environment: [String: String] = [:]
        for index in 0..<apps {
            let appid = "wxbench\(index)"
            yaml += "  - {appid: \(appid), secret_env: SECRET_\(index)}\n"
            environment["SECRET_\(index)"] = "secret-\(appid)"
        }
        let started = ContinuousClock.now
        let configuration = try TokendConfiguration.parse(yaml: yaml, file: "generated.yaml", environment: environment)
        let elapsed = ContinuousClock.now - started
        guard configuration.apps.count == apps else { throw ValidationError("parsed \(configuration.apps.count) of \(apps) apps") }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "%.2f", seconds), apps)
    }
}
