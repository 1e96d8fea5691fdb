import Foundation

/// The YAML file as written: snake_case keys, every field optional (defaults live in
/// `TokendConfiguration`). Unknown keys are rejected so a typo does not silently fall back to a default.
struct ConfigurationFile: Decodable {
    struct Redis: Decodable {
        var tls: TLS?
        var url: String?
        var keyPrefix: String?
        var poolSize: Int?
        var commandTimeout: DurationValue?
        var passwordEnv: String?
        var passwordFile: String?
        var sentinel: Sentinel?

        enum CodingKeys: String, CodingKey {
            case tls
            case url, keyPrefix = "key_prefix", poolSize = "pool_size", commandTimeout = "command_timeout"
            case passwordEnv = "password_env", passwordFile = "password_file", sentinel
        }
    }

    struct Sentinel: Decodable {
        var master: String?
        var addresses: [String]?
        var username: String?
        var passwordEnv: String?
        var passwordFile: String?

        enum CodingKeys: String, CodingKey {
            case master, addresses, username, passwordEnv = "password_env", passwordFile = "password_file"
        }
    }

    struct Upstream: Decodable {
        var wechatBaseUrl: String?
        var wecomBaseUrl: String?
        var timeout: DurationValue?
        var maxConcurrentCalls: Int?
        var rateLimit: Int?

        enum CodingKeys: String, CodingKey {
            case wechatBaseUrl = "wechat_base_url", wecomBaseUrl = "wecom_base_url", timeout
            case maxConcurrentCalls = "max_concurrent_calls", rateLimit = "rate_limit"
        }
    }

    struct Worker: Decodable {
        var id: String?
    }

    struct Refresh: Decodable {
        var ahead: DurationValue?
        var lockTtl: DurationValue?
        var checkInterval: DurationValue?
        var retryInitial: DurationValue?
        var retryMaximum: DurationValue?
        var configErrorRetry: DurationValue?
        var forcedCooldown: DurationValue?
        var stableForceDailyLimit: Int?
        var forcedMinTokenAge: DurationValue?
        var forcedHourlyBudget: Int?
        var forcedDailyBudget: Int?

        enum CodingKeys: String, CodingKey {
            case ahead, lockTtl = "lock_ttl", checkInterval = "check_interval", retryInitial = "retry_initial"
            case retryMaximum = "retry_maximum", configErrorRetry = "config_error_retry"
            case forcedCooldown = "forced_cooldown", stableForceDailyLimit = "stable_force_daily_limit"
            case forcedMinTokenAge = "forced_min_token_age", forcedHourlyBudget = "forced_hourly_budget"
            case forcedDailyBudget = "forced_daily_budget"
        }
    }

    struct HTTP: Decodable {
        var enabled: Bool?
        var host: String?
        var port: Int?
        var apiKeyEnv: String?
        var apiKeyFile: String?
        var allowUnauthenticated: Bool?
        var idleTimeout: DurationValue?
        var tokenCacheMaxAge: DurationValue?

        enum CodingKeys: String, CodingKey {
            case enabled, host, port, apiKeyEnv = "api_key_env", apiKeyFile = "api_key_file"
            case allowUnauthenticated = "allow_unauthenticated", idleTimeout = "idle_timeout"
            case tokenCacheMaxAge = "token_cache_max_age"
        }
    }

    struct Gateway: Decodable {
        var enabled: Bool?
        var pathPrefixes: [String]?
        var timeout: DurationValue?
        var maxConnections: Int?
        var maxBodySize: Int?
        var tokenWait: DurationValue?

        enum CodingKeys: String, CodingKey {
            case enabled, pathPrefixes = "path_prefixes", timeout, maxConnections = "max_connections"
            case maxBodySize = "max_body_size", tokenWait = "token_wait"
        }
    }

    struct Metrics: Decodable {
        var perApp: String?

        enum CodingKeys: String, CodingKey {
            case perApp = "per_app"
        }
    }

    struct App: Decodable {
        var appid: String
        var grant: Grant?
        var secretEnv: String?
        var secretFile: String?
        var corpid: String?
        var agentid: String?
        var tickets: [String]?

        enum CodingKeys: String, CodingKey {
            case appid, grant, secretEnv = "secret_env", secretFile = "secret_file", corpid, agentid, tickets
        }
    }

    var redis: Redis?
    var upstream: Upstream?
    var worker: Worker?
    var refresh: Refresh?
    var http: HTTP?
    var gateway: Gateway?
    var metrics: Metrics?
    var apps: [App]?

    /// Keys each section accepts, in the file's spelling.
    static let allowedKeys: [String: Set<String>] = [
        "": ["redis", "upstream", "worker", "refresh", "http", "gateway", "metrics", "apps"],
        "redis": ["url", "key_prefix", "pool_size", "command_timeout", "password_env", "password_file", "sentinel", "tls"],
        "redis.sentinel": ["master", "addresses", "username", "password_env", "password_file"],
        "redis.tls": ["ca_file", "cert_file", "key_file", "server_name"],
        "upstream": ["wechat_base_url", "wecom_base_url", "timeout", "max_concurrent_calls", "rate_limit"],
        "worker": ["id"],
        "refresh": [
            "ahead", "lock_ttl", "check_interval", "retry_initial", "retry_maximum", "config_error_retry",
            "forced_cooldown", "stable_force_daily_limit", "forced_min_token_age", "forced_hourly_budget", "forced_daily_budget",
        ],
        "http": ["enabled", "host", "port", "api_key_env", "api_key_file", "allow_unauthenticated", "idle_timeout",
                 "token_cache_max_age"],
        "gateway": ["enabled", "path_prefixes", "timeout", "max_connections", "max_body_size", "token_wait"],
        "metrics": ["per_app"],
        "apps[]": ["appid", "grant", "secret_env", "secret_file", "corpid", "agentid", "tickets"],
    ]
}

/// A duration written as seconds (`300`, `1.5`) or with a unit (`300s`, `5m`, `1500ms`, `2h`).
struct DurationValue: Decodable {
    var duration: Duration

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Double.self) {
            guard let duration = Self.parse("\(seconds)") else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be positive")
            }
            self.duration = duration
            return
        }
        let text = try container.decode(String.self)
        guard let duration = Self.parse(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "'\(text)' is not a duration; write seconds (300) or with a unit (300s, 5m, 1500ms)"
            )
        }
        self.duration = duration
    }

    /// Parses `300`, `1.5`, `300s`, `5m`, `1500ms`, `2h`; nil for anything else, below 1 ms or above ten years.
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(trimmed)
        var scale = 1.0
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = trimmed.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        // At least 1 ms once rounded (a zero lease or backoff is invalid), at most ten years.
        guard let value = Double(number), value.isFinite else { return nil }
        let milliseconds = (value * scale * 1000).rounded()
        guard milliseconds >= 1, milliseconds <= 315_360_000_000 else { return nil }
        return .milliseconds(Int64(milliseconds))
    }
}
