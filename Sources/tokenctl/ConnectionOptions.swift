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

    @Option(help: ArgumentHelp(
        "With --redis-url: a file holding the Redis password, so it need not be in the URL (visible in ps). Or set TOKENCENTRAL_REDIS_PASSWORD.",
        valueName: "file"))
    var redisPasswordFile: String?

    func validate() throws {
        if config != nil, redisURL != nil { throw ValidationError("give either --config or --redis-url, not both") }
        if redisURL == nil, prefix != nil {
            throw ValidationError("--prefix goes with --redis-url; with --config the prefix is redis.key_prefix")
        }
        if let prefix, prefix.isEmpty { throw ValidationError("--prefix must not be empty") }
        if redisURL == nil, redisPasswordFile != nil {
            throw ValidationError("--redis-password-file goes with --redis-url; with --config the password is redis.password_env or redis.password_file")
        }
    }

    /// Connects (lazily: the first command opens the connection) to the chosen deployment.
    /// The environment is read here and nowhere else.
    func deployment() throws -> Deployment {
        let clientConfiguration = RedisClientConfiguration(poolSize: 1)
        let environment = ProcessInfo.processInfo.environment
        if let redisURL {
            var endpoint = try RedisEndpoint(url: redisURL)
            if let password = try RedisPassword.read(file: redisPasswordFile, environment: environment) {
                guard endpoint.password == nil else {
                    throw ValidationError("--redis-url carries a password already; give it only once")
                }
                endpoint.password = password
            }
            return Deployment(
                redis: RedisClient(endpoint: endpoint, configuration: clientConfiguration),
                keys: TokenKeys(prefix: prefix ?? "wechat"),
                configuredApps: nil
            )
        }
        let configuration = try TokendConfiguration.load(
            file: config ?? "tokend.yaml",
            environment: environment,
            resolvingSecrets: false
        )
        return Deployment(
            redis: RedisClient(endpoint: try configuration.redis.endpoint(), configuration: clientConfiguration),
            keys: TokenKeys(prefix: configuration.redis.keyPrefix),
            configuredApps: configuration.apps
        )
    }
}
