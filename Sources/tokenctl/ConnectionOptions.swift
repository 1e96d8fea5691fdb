import ArgumentParser
import Foundation
import RedisClient
import TokenCentral

/// Which deployment to look at: a tokend configuration file, or a Redis URL and key prefix.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "tokend configuration file: Redis URL, key prefix and apps; secrets are not read. TOKEND_* variables apply as for tokend. (default: tokend.yaml, unless --redis-url is given)",
            valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Redis to read instead of --config, e.g. redis://127.0.0.1:6379/0.", valueName: "url"))
    var redisURL: String?

    @Option(help: ArgumentHelp("Key prefix with --redis-url. (default: wechat)", valueName: "prefix"))
    var prefix: String?

    @OptionGroup(title: "TLS, with a rediss:// --redis-url (with --config: redis.tls)")
    var tls: TLSOptions

    func validate() throws {
        if config != nil, redisURL != nil { throw ValidationError("give either --config or --redis-url, not both") }
        if redisURL == nil, prefix != nil {
            throw ValidationError("--prefix goes with --redis-url; with --config the prefix is redis.key_prefix")
        }
        if let prefix, prefix.isEmpty { throw ValidationError("--prefix must not be empty") }
        if tls.configuration != nil, !(redisURL?.hasPrefix("rediss://") ?? false) {
            throw ValidationError("--tls-* options go with a rediss:// --redis-url; with --config TLS is set in redis.tls")
        }
    }

    /// Connects (lazily: the first command opens the connection) to the chosen deployment.
    /// The environment is read here and nowhere else.
    func deployment() throws -> Deployment {
        let clientConfiguration = RedisClientConfiguration(poolSize: 1)
        if let redisURL {
            return Deployment(
                redis: RedisClient(endpoint: try tls.applied(to: RedisEndpoint(url: redisURL)), configuration: clientConfiguration),
                keys: TokenKeys(prefix: prefix ?? "wechat"),
                configuredApps: nil
            )
        }
        let configuration = try TokendConfiguration.load(
            file: config ?? "tokend.yaml",
            environment: ProcessInfo.processInfo.environment,
            resolvingSecrets: false
        )
        return Deployment(
            redis: RedisClient(
                endpoint: configuration.redis.applyingTLS(to: try RedisEndpoint(url: configuration.redis.url)),
                configuration: clientConfiguration),
            keys: TokenKeys(prefix: configuration.redis.keyPrefix),
            configuredApps: configuration.apps
        )
    }
}
