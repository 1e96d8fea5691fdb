import Configuration
import Foundation
import RedisClient
import Yams

extension TokendConfiguration {
    /// Reads `file`, applies `TOKEND_*` environment overrides and resolves secrets.
    ///
    /// Precedence: environment (`TOKEND_REDIS_URL` overrides `redis.url`, `TOKEND_REFRESH_AHEAD` overrides
    /// `refresh.ahead`, ...) over the file over built-in defaults. The environment is read here and
    /// nowhere else. Scalars go through swift-configuration; the `apps` list is decoded with Yams
    /// because swift-configuration's YAML provider accepts only scalar arrays.
    ///
    /// With `resolvingSecrets: false` (tools such as `tokenctl` that only read Redis) secrets are not read
    /// and every `Secret` is empty.
    public static func load(file: String, environment: [String: String], resolvingSecrets: Bool = true) throws(ConfigError)
        -> TokendConfiguration
    {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigError(file: file, field: nil, "cannot read the configuration file (\(error.localizedDescription))")
        }
        return try parse(yaml: text, file: file, environment: environment, resolvingSecrets: resolvingSecrets)
    }

    /// Parses configuration text; `file` names it in errors and anchors relative secret file paths.
    public static func parse(yaml: String, file: String, environment: [String: String], resolvingSecrets: Bool = true)
        throws(ConfigError) -> TokendConfiguration
    {
        let parsed: ConfigurationFile
        do {
            if let node = try Yams.compose(yaml: yaml) {
                try rejectUnknownKeys(node, section: "", path: "", file: file)
            }
            parsed = try YAMLDecoder().decode(ConfigurationFile.self, from: yaml.isEmpty ? "{}" : yaml)
            try rejectUnknownVariables(environment, naming: parsed, file: file)
        } catch let error as ConfigError {
            throw error
        } catch let error as DecodingError {
            throw ConfigError(file: file, field: error.fieldPath, error.reason)
        } catch {
            throw ConfigError(file: file, field: nil, "invalid YAML: \(error)")
        }
        let overrides = ConfigReader(
            provider: EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "tokend")
        )
        var resolver = Resolver(file: file, environment: environment, overrides: overrides, resolvingSecrets: resolvingSecrets)
        return try resolver.resolve(parsed)
    }

    private static func rejectUnknownKeys(_ node: Node, section: String, path: String, file: String) throws(ConfigError) {
        if let sequence = node.sequence, section == "apps" {
            for (index, item) in sequence.enumerated() {
                try rejectUnknownKeys(item, section: "apps[]", path: "apps[\(index)]", file: file)
            }
            return
        }
        guard let mapping = node.mapping, let allowed = ConfigurationFile.allowedKeys[section] else { return }
        for (key, value) in mapping {
            guard let name = key.string else { continue }
            let field = path.isEmpty ? name : "\(path).\(name)"
            guard allowed.contains(name) else {
                throw ConfigError(file: file, field: field, "unknown key; expected one of \(allowed.sorted().joined(separator: ", "))")
            }
            if section.isEmpty || ConfigurationFile.allowedKeys[field] != nil {
                try rejectUnknownKeys(value, section: field, path: field, file: file)
            }
        }
    }
}

/// Merges file values, environment overrides and defaults, validating each field as it goes.
struct Resolver {
    let file: String
    let environment: [String: String]
    let overrides: ConfigReader
    let resolvingSecrets: Bool

    func fail(_ field: String, _ message: String) -> ConfigError {
        ConfigError(file: file, field: field, message)
    }

    mutating func resolve(_ parsed: ConfigurationFile) throws(ConfigError) -> TokendConfiguration {
        let defaults = TokendConfiguration(workerID: "", apps: [])
        let hostname = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "worker"
        var configuration = TokendConfiguration(
            workerID: try string("worker.id", parsed.worker?.id, default: "\(hostname)-\(getpid())"),
            apps: []
        )

        configuration.redis.url = try string("redis.url", parsed.redis?.url, default: defaults.redis.url)
        do {
            _ = try RedisEndpoint(url: configuration.redis.url)
        } catch {
            throw fail("redis.url", error.message)
        }
        configuration.redis.tls = try tls(parsed.redis?.tls, url: configuration.redis.url)
        configuration.redis.keyPrefix = try string("redis.key_prefix", parsed.redis?.keyPrefix, default: defaults.redis.keyPrefix)
        configuration.redis.poolSize = try integer("redis.pool_size", parsed.redis?.poolSize, default: defaults.redis.poolSize, range: 1...64)
        configuration.redis.commandTimeout = try duration("redis.command_timeout", parsed.redis?.commandTimeout, default: defaults.redis.commandTimeout)
        configuration.redis.password = try redisPassword(parsed.redis, url: configuration.redis.url)
        configuration.redis.sentinel = try sentinel(parsed.redis?.sentinel)

        configuration.upstream.wechatBaseURL = try baseURL("upstream.wechat_base_url", parsed.upstream?.wechatBaseUrl, default: defaults.upstream.wechatBaseURL)
        configuration.upstream.wecomBaseURL = try baseURL("upstream.wecom_base_url", parsed.upstream?.wecomBaseUrl, default: defaults.upstream.wecomBaseURL)
        configuration.upstream.timeout = try duration("upstream.timeout", parsed.upstream?.timeout, default: defaults.upstream.timeout)
        configuration.upstream.maxConcurrentCalls = try integer(
            "upstream.max_concurrent_calls", parsed.upstream?.maxConcurrentCalls,
            default: defaults.upstream.maxConcurrentCalls, range: 1...1024)
        configuration.upstream.rateLimit = try integer(
            "upstream.rate_limit", parsed.upstream?.rateLimit, default: defaults.upstream.rateLimit, range: 1...100_000)

        let refresh = parsed.refresh
        configuration.refresh.ahead = try duration("refresh.ahead", refresh?.ahead, default: defaults.refresh.ahead)
        configuration.refresh.lockTTL = try duration("refresh.lock_ttl", refresh?.lockTtl, default: defaults.refresh.lockTTL)
        configuration.refresh.checkInterval = try duration("refresh.check_interval", refresh?.checkInterval, default: defaults.refresh.checkInterval)
        configuration.refresh.retryInitial = try duration("refresh.retry_initial", refresh?.retryInitial, default: defaults.refresh.retryInitial)
        configuration.refresh.retryMaximum = try duration("refresh.retry_maximum", refresh?.retryMaximum, default: defaults.refresh.retryMaximum)
        configuration.refresh.configErrorRetry = try duration("refresh.config_error_retry", refresh?.configErrorRetry, default: defaults.refresh.configErrorRetry)
        configuration.refresh.forcedCooldown = try duration("refresh.forced_cooldown", refresh?.forcedCooldown, default: defaults.refresh.forcedCooldown)
        configuration.refresh.stableForceDailyLimit = try integer(
            "refresh.stable_force_daily_limit", refresh?.stableForceDailyLimit,
            default: defaults.refresh.stableForceDailyLimit, range: 0...10_000)
        try resolveForcedBudget(refresh, into: &configuration.refresh, defaults: defaults.refresh)
        if configuration.refresh.retryMaximum < configuration.refresh.retryInitial {
            throw fail("refresh.retry_maximum", "must not be shorter than refresh.retry_initial")
        }

        let http = parsed.http
        configuration.http.enabled = try boolean("http.enabled", http?.enabled, default: defaults.http.enabled)
        configuration.http.host = try string("http.host", http?.host, default: defaults.http.host)
        configuration.http.port = try integer("http.port", http?.port, default: defaults.http.port, range: 0...65535)
        configuration.http.apiKey = try secret(
            envField: "http.api_key_env", env: overrides.string(forKey: "http.api_key_env") ?? http?.apiKeyEnv,
            fileField: "http.api_key_file", file: overrides.string(forKey: "http.api_key_file") ?? http?.apiKeyFile,
            required: false)
        configuration.http.allowUnauthenticated = try boolean(
            "http.allow_unauthenticated", http?.allowUnauthenticated, default: defaults.http.allowUnauthenticated)
        configuration.http.idleTimeout = try duration("http.idle_timeout", http?.idleTimeout, default: defaults.http.idleTimeout)
        configuration.http.tokenCacheMaxAge = try duration(
            "http.token_cache_max_age", http?.tokenCacheMaxAge, default: defaults.http.tokenCacheMaxAge)
        try requireAPIKeyOffLoopback(configuration.http)

        configuration.gateway = try gateway(parsed.gateway, defaults: defaults.gateway)
        configuration.metrics = try metrics(parsed.metrics, defaults: defaults.metrics)
        configuration.apps = try apps(parsed.apps ?? [])
        return configuration
    }

    /// The forced-refresh budget (`ForcedRefreshBudget`): daily at most 1,000, half of WeChat's 2,000 daily
    /// token calls, so scheduled refreshes keep the other half whatever is configured.
    private func resolveForcedBudget(
        _ refresh: ConfigurationFile.Refresh?, into resolved: inout TokendConfiguration.Refresh, defaults: TokendConfiguration.Refresh
    ) throws(ConfigError) {
        resolved.forcedMinTokenAge = try duration(
            "refresh.forced_min_token_age", refresh?.forcedMinTokenAge, default: defaults.forcedMinTokenAge)
        if resolved.forcedMinTokenAge > .seconds(3600) { throw fail("refresh.forced_min_token_age", "must be at most 1h") }
        resolved.forcedHourlyBudget = try integer(
            "refresh.forced_hourly_budget", refresh?.forcedHourlyBudget, default: defaults.forcedHourlyBudget, range: 0...1000)
        resolved.forcedDailyBudget = try integer(
            "refresh.forced_daily_budget", refresh?.forcedDailyBudget, default: defaults.forcedDailyBudget, range: 0...1000)
        if resolved.forcedHourlyBudget > resolved.forcedDailyBudget {
            throw fail("refresh.forced_hourly_budget", "must not exceed refresh.forced_daily_budget")
        }
    }

    private func apps(_ entries: [ConfigurationFile.App]) throws(ConfigError) -> [AppConfiguration] {
        guard !entries.isEmpty else { throw fail("apps", "no apps configured; list at least one {appid, grant, secret_env}") }
        var seen: Set<String> = []
        var apps: [AppConfiguration] = []
        apps.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            let field = "apps[\(index)]"
            let appid = entry.appid.trimmingCharacters(in: .whitespaces)
            guard RefreshMessage.isAppID(appid) else {
                throw fail("\(field).appid", "'\(entry.appid)' must be 1-128 ASCII letters, digits, '-', '_' or '.'")
            }
            guard seen.insert(appid).inserted else { throw fail("\(field).appid", "\(appid) is listed twice") }
            let grant = entry.grant ?? .token
            if grant == .wecom, (entry.corpid ?? "").isEmpty {
                throw fail("\(field).corpid", "required for grant wecom (the corp ID passed to gettoken)")
            }
            guard let secret = try secret(
                envField: "\(field).secret_env", env: entry.secretEnv,
                fileField: "\(field).secret_file", file: entry.secretFile, required: true)
            else { throw fail(field, "a secret is required") }
            let ticketTypes = try tickets(entry.tickets, grant: grant, field: "\(field).tickets")
            apps.append(
                AppConfiguration(
                    appid: appid, grant: grant, secret: secret, corpid: entry.corpid, agentid: entry.agentid, tickets: ticketTypes))
        }
        return apps
    }

    /// Reads a secret from the named environment variable or from a file: exactly one of the two.
    /// `envField`/`fileField` name the two settings in errors, e.g. `apps[0].secret_env`.
    /// `always`: read it even without `resolvingSecrets` (a Redis credential, which tools need too).
    func secret(
        envField: String, env: String?, fileField: String, file secretFile: String?, required: Bool, always: Bool = false
    ) throws(ConfigError) -> Secret? {
        switch (env, secretFile) {
        case (_?, nil) where !resolvingSecrets && !always, (nil, _?) where !resolvingSecrets && !always:
            return Secret("")
        case (let name?, nil):
            guard let value = environment[name], !value.isEmpty else {
                throw fail(envField, "environment variable \(name) is not set or empty")
            }
            return Secret(value)
        case (nil, let path?):
            let resolved = resolvedPath(path)
            guard let data = FileManager.default.contents(atPath: resolved) else {
                throw fail(fileField, "cannot read \(resolved)")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw fail(fileField, "\(resolved) is empty") }
            return Secret(value)
        case (nil, nil):
            if required { throw fail(envField, "set \(envField) (an environment variable name) or \(fileField) (a path)") }
            return nil
        case (_?, _?):
            throw fail(envField, "set only one of \(envField) and \(fileField)")
        }
    }

    /// `redis.sentinel`, on when a master is named (in the file or `TOKEND_REDIS_SENTINEL_MASTER`);
    /// `TOKEND_REDIS_SENTINEL_ADDRESSES` is a comma-separated list.
    private func sentinel(_ parsed: ConfigurationFile.Sentinel?) throws(ConfigError) -> TokendConfiguration.Redis.Sentinel? {
        let master = overrides.string(forKey: "redis.sentinel.master") ?? parsed?.master
        let listed = overrides.string(forKey: "redis.sentinel.addresses").map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        } ?? parsed?.addresses ?? []
        guard let master else {
            if !listed.isEmpty { throw fail("redis.sentinel.master", "required with redis.sentinel.addresses: the name in 'sentinel monitor NAME ...'") }
            return nil
        }
        guard !master.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("redis.sentinel.master", "must not be empty") }
        guard !listed.isEmpty else {
            throw fail("redis.sentinel.addresses", "list the sentinels as host:port (port 26379 by default)")
        }
        for (index, address) in listed.enumerated() {
            do {
                _ = try RedisSentinelConfiguration.sentinel(address)
            } catch {
                throw fail("redis.sentinel.addresses[\(index)]", error.message)
            }
        }
        let password = try secret(
            envField: "redis.sentinel.password_env", env: overrides.string(forKey: "redis.sentinel.password_env") ?? parsed?.passwordEnv,
            fileField: "redis.sentinel.password_file", file: overrides.string(forKey: "redis.sentinel.password_file") ?? parsed?.passwordFile,
            required: false, always: true)
        let username = overrides.string(forKey: "redis.sentinel.username") ?? parsed?.username
        return TokendConfiguration.Redis.Sentinel(master: master, addresses: listed, username: username, password: password)
    }

    private func string(_ key: String, _ value: String?, default fallback: String) throws(ConfigError) -> String {
        let result = overrides.string(forKey: ConfigKey(key)) ?? value ?? fallback
        guard !result.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(key, "must not be empty") }
        return result
    }

    private func integer(_ key: String, _ value: Int?, default fallback: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        var result = value ?? fallback
        if let text = overrides.string(forKey: ConfigKey(key)) {
            guard let parsed = Int(text) else { throw fail(key, "'\(text)' (from \(environmentName(key))) is not an integer") }
            result = parsed
        }
        guard range.contains(result) else { throw fail(key, "\(result) is outside \(range.lowerBound)...\(range.upperBound)") }
        return result
    }

    func boolean(_ key: String, _ value: Bool?, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let text = overrides.string(forKey: ConfigKey(key)) else { return value ?? fallback }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw fail(key, "'\(text)' (from \(environmentName(key))) is not true or false")
        }
    }

    func duration(_ key: String, _ value: DurationValue?, default fallback: Duration) throws(ConfigError) -> Duration {
        guard let text = overrides.string(forKey: ConfigKey(key)) else { return value?.duration ?? fallback }
        guard let parsed = DurationValue.parse(text) else {
            throw fail(key, "'\(text)' (from \(environmentName(key))) is not a duration; write seconds (300) or 300s, 5m, 1500ms")
        }
        return parsed
    }

    private func baseURL(_ key: String, _ value: String?, default fallback: String) throws(ConfigError) -> String {
        let url = try string(key, value, default: fallback)
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw fail(key, "'\(url)' is not an http(s) base URL")
        }
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    private func gateway(_ file: ConfigurationFile.Gateway?, defaults: TokendConfiguration.Gateway) throws(ConfigError)
        -> TokendConfiguration.Gateway
    {
        var gateway = TokendConfiguration.Gateway()
        gateway.enabled = try boolean("gateway.enabled", file?.enabled, default: defaults.enabled)
        let prefixes = overrides.string(forKey: "gateway.path_prefixes").map { $0.split(separator: ",").map(String.init) }
        gateway.pathPrefixes = prefixes ?? file?.pathPrefixes ?? defaults.pathPrefixes
        for prefix in gateway.pathPrefixes where !prefix.hasPrefix("/") || !prefix.hasSuffix("/") || prefix.count < 3 {
            throw fail("gateway.path_prefixes", "'\(prefix)' must start and end with '/', e.g. /cgi-bin/")
        }
        gateway.timeout = try duration("gateway.timeout", file?.timeout, default: defaults.timeout)
        gateway.maxConnections = try integer(
            "gateway.max_connections", file?.maxConnections, default: defaults.maxConnections, range: 1...10_000)
        gateway.maxBodySize = try integer(
            "gateway.max_body_size", file?.maxBodySize, default: defaults.maxBodySize, range: 1...1_073_741_824)
        gateway.tokenWait = try duration("gateway.token_wait", file?.tokenWait, default: defaults.tokenWait)
        return gateway
    }

    private func environmentName(_ key: String) -> String {
        "TOKEND_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension DecodingError {
    /// The failing field as written in the file, e.g. `apps[1].grant`.
    var fieldPath: String? {
        let path: [any CodingKey]
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
        @unknown default:
            return nil
        }
        var result = ""
        for key in path {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += (result.isEmpty ? "" : ".") + key.stringValue.snakeCased
            }
        }
        return result.isEmpty ? nil : result
    }

    var reason: String {
        switch self {
        case .typeMismatch(let type, _): "expected \(type)"
        case .valueNotFound(let type, _): "expected \(type), found nothing"
        case .keyNotFound: "is required"
        case .dataCorrupted(let context): context.debugDescription
        @unknown default: "invalid value"
        }
    }
}

extension String {
    /// `wechatBaseUrl` → `wechat_base_url`, to name fields as the file spells them.
    fileprivate var snakeCased: String {
        var result = ""
        for character in self {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
