import Foundation
import Configuration
import RedisClient

extension TokendConfiguration {
    /// Fails on a `TOKEND_*` variable that overrides no option: `TOKEND_REFRESH_AHAED=60s` would otherwise
    /// be ignored without a word and the default used. Variables the file names as holding a secret
    /// (`secret_env`, `api_key_env`, `password_env`) are exempt: their names are the operator's choice.
    static func rejectUnknownVariables(_ environment: [String: String], naming parsed: ConfigurationFile, file: String)
        throws(ConfigError)
    {
        let known = overridableVariables
        var secretHolders = Set((parsed.apps ?? []).compactMap(\.secretEnv))
        for holder in [parsed.http?.apiKeyEnv, parsed.redis?.passwordEnv, parsed.redis?.sentinel?.passwordEnv,
                       environment["TOKEND_HTTP_API_KEY_ENV"], environment["TOKEND_REDIS_PASSWORD_ENV"],
                       environment["TOKEND_REDIS_SENTINEL_PASSWORD_ENV"]]
        {
            if let holder { secretHolders.insert(holder) }
        }
        for name in environment.keys.sorted() where name.hasPrefix("TOKEND_") {
            guard !known.contains(name), !secretHolders.contains(name) else { continue }
            let closest = known.min { editDistance($0, name) < editDistance($1, name) }
            let suggestion = closest.flatMap { editDistance($0, name) <= 3 ? " Did you mean \($0)?" : nil } ?? ""
            throw ConfigError(
                file: file, field: nil,
                "environment variable \(name) overrides no option.\(suggestion) TOKEND_<SECTION>_<KEY> names a key of the file, e.g. TOKEND_REFRESH_AHEAD")
        }
    }

    /// `TOKEND_REDIS_URL`, `TOKEND_REFRESH_AHEAD`, ...: one per scalar option of the file.
    static var overridableVariables: Set<String> {
        var names: Set<String> = []
        for (section, keys) in ConfigurationFile.allowedKeys where !section.isEmpty && section != "apps[]" {
            // `redis.sentinel` + `master` → `TOKEND_REDIS_SENTINEL_MASTER`.
            for key in keys { names.insert("TOKEND_\(section)_\(key)".uppercased().replacingOccurrences(of: ".", with: "_")) }
        }
        return names
    }

    /// Levenshtein distance: the number of single-character edits from `a` to `b`.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for (i, left) in a.enumerated() {
            var current = [i + 1]
            for (j, right) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension TokendConfiguration.Redis {
    /// The endpoint to connect to: `url` with the password of `redis.password_env`/`password_file`, if set,
    /// and `redis.tls` when the URL is `rediss://`.
    public func endpoint() throws(RedisError) -> RedisEndpoint {
        var endpoint = applyingTLS(to: try RedisEndpoint(url: url))
        if let password { endpoint.password = password.value }
        return endpoint
    }
}

extension Resolver {
    /// The Redis password from `redis.password_env` or `redis.password_file`. Read even by tools that skip
    /// app secrets (`tokenctl`), since they must log in too. A password in the URL as well is refused:
    /// which one wins would be a guess.
    func redisPassword(_ redis: ConfigurationFile.Redis?, url: String) throws(ConfigError) -> Secret? {
        let password = try secret(
            envField: "redis.password_env", env: overrides.string(forKey: "redis.password_env") ?? redis?.passwordEnv,
            fileField: "redis.password_file", file: overrides.string(forKey: "redis.password_file") ?? redis?.passwordFile,
            required: false, always: true)
        if password != nil, (try? RedisEndpoint(url: url))?.password != nil {
            throw fail("redis.url", "carries a password, and redis.password_env/redis.password_file sets one too; keep only one")
        }
        return password
    }

    /// Refuses to serve tokens on an address other machines can reach without an API key, unless
    /// `http.allow_unauthenticated` says that is intended (a private network, a proxy that authenticates).
    func requireAPIKeyOffLoopback(_ http: TokendConfiguration.HTTP) throws(ConfigError) {
        guard http.enabled, http.apiKey == nil, !http.allowUnauthenticated, !Self.isLoopback(http.host) else { return }
        throw fail(
            "http.host",
            "\(http.host) is reachable from other machines and no API key is set: anyone could read the tokens. Set http.api_key_env or http.api_key_file, or http.allow_unauthenticated: true if the network is trusted")
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
