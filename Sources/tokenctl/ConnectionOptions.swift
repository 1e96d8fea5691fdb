import ArgumentParser
import Foundation
import RedisClient
import TokenCentral

/// Which deployment to look at: a tokend configuration file, or a Redis URL and key prefix.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "tokend configuration file: Redis URL, key prefix and apps; secrets are not read. TOKEND_* variables apply as for tokend. (default: tokend.yaml, unless --redis-url or --sentinel is given)",
            valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Redis to read instead of --config, e.g. redis://127.0.0.1:6379/0.", valueName: "url"))
    var redisURL: String?

    @Option(help: ArgumentHelp("Key prefix with --redis-url or --sentinel. (default: wechat)", valueName: "prefix"))
    var prefix: String?

    @Option(help: ArgumentHelp(
        "With --redis-url: a file holding the Redis password, so it need not be in the URL (visible in ps). Or set TOKENCENTRAL_REDIS_PASSWORD.",
        valueName: "file"))
    var redisPasswordFile: String?

    @Option(
        help: ArgumentHelp(
            "A sentinel to ask for the primary instead of --config, host:port (repeat for each sentinel); needs --sentinel-master. --redis-url then gives only the data nodes' credentials and database. A sentinel password goes in TOKENCENTRAL_SENTINEL_PASSWORD.",
            valueName: "host:port"))
    var sentinel: [String] = []

    @Option(help: ArgumentHelp("The master's name in the sentinels' configuration, with --sentinel.", valueName: "name"))
    var sentinelMaster: String?

    @Option(help: ArgumentHelp("ACL user on the sentinels, with TOKENCENTRAL_SENTINEL_PASSWORD.", valueName: "user"))
    var sentinelUsername: String?

    @OptionGroup(title: "TLS, with a rediss:// --redis-url (with --config: redis.tls)")
    var tls: TLSOptions

    func validate() throws {
        if config != nil, redisURL != nil { throw ValidationError("give either --config or --redis-url, not both") }
        if config != nil, !sentinel.isEmpty {
            throw ValidationError("give either --config or --sentinel, not both; with --config the sentinels are redis.sentinel")
        }
        if sentinel.isEmpty != (sentinelMaster == nil) { throw ValidationError("--sentinel and --sentinel-master go together") }
        if redisURL == nil, sentinel.isEmpty, prefix != nil {
            throw ValidationError("--prefix goes with --redis-url or --sentinel; with --config the prefix is redis.key_prefix")
        }
        if let prefix, prefix.isEmpty { throw ValidationError("--prefix must not be empty") }
        if redisURL == nil, sentinel.isEmpty, redisPasswordFile != nil {
            throw ValidationError("--redis-password-file goes with --redis-url or --sentinel; with --config the password is redis.password_env or redis.password_file")
        }
        if tls.configuration != nil, !(redisURL?.hasPrefix("rediss://") ?? false) {
            throw ValidationError("--tls-* options go with a rediss:// --redis-url; with --config TLS is set in redis.tls")
        }
    }

    /// Connects (lazily: the first command opens the connection) to the chosen deployment.
    /// The environment is read here and nowhere else.
    func deployment() throws -> Deployment {
        let clientConfiguration = RedisClientConfiguration(poolSize: 1)
        let environment = ProcessInfo.processInfo.environment
        if let sentinelMaster {
            let password = environment["TOKENCENTRAL_SENTINEL_PASSWORD"].flatMap { $0.isEmpty ? nil : Secret($0) }
            var redis = TokendConfiguration.Redis(
                url: redisURL ?? "redis://\(sentinelMaster)/0",
                sentinel: .init(master: sentinelMaster, addresses: sentinel, username: sentinelUsername, password: password))
            redis.password = try RedisPassword.read(file: redisPasswordFile, environment: environment).map(Secret.init)
            redis.tls = tls.configuration
            return Deployment(redis: try redis.makeClient(clientConfiguration), keys: TokenKeys(prefix: prefix ?? "wechat"), configuredApps: nil)
        }
        if let redisURL {
            var endpoint = try tls.applied(to: RedisEndpoint(url: redisURL))
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
            redis: try configuration.redis.makeClient(clientConfiguration),
            keys: TokenKeys(prefix: configuration.redis.keyPrefix),
            configuredApps: configuration.apps
        )
    }
}
