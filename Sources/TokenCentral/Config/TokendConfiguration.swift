import RedisClient

/// Everything a `tokend` worker needs, validated before any service starts.
public struct TokendConfiguration: Sendable {
    public struct Redis: Sendable {
        /// `redis.tls`: CA, client certificate and server name for a `rediss://` URL; nil uses the
        /// defaults (the system's CAs, the URL's host as the name). Apply it with `applyingTLS(to:)`.
        public var tls: RedisTLSConfiguration?
        /// `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS, with `tls`) or `unix:///path`.
        public var url: String = "redis://127.0.0.1:6379/0"
        /// `P` in the key names `P:{APPID}:access_token`, `P:refreshed`, ...
        public var keyPrefix: String = "wechat"
        public var poolSize: Int = 8
        public var commandTimeout: Duration = .seconds(2)
    }

    public struct Upstream: Sendable {
        public var wechatBaseURL: String = "https://api.weixin.qq.com"
        public var wecomBaseURL: String = "https://qyapi.weixin.qq.com"
        /// Bound on one call to a token endpoint.
        public var timeout: Duration = .seconds(10)
        /// Upstream calls one worker makes at once, over all its apps. 8 is the HTTP client's connection
        /// limit per host: more would only wait for a connection, holding their leases meanwhile.
        public var maxConcurrentCalls: Int = 8
    }

    public struct Refresh: Sendable {
        /// Refresh this long before expiry; capped at a quarter of the token's lifetime.
        public var ahead: Duration = .seconds(300)
        /// Longest refresh lease; capped at a third of the effective `ahead`.
        public var lockTTL: Duration = .seconds(30)
        /// How often each worker checks that every app's token key still exists (re-seeding it after a flush).
        public var checkInterval: Duration = .seconds(5)
        /// First retry delay after a transient upstream failure; doubles per failure.
        public var retryInitial: Duration = .seconds(1)
        /// Longest delay between retries after transient failures.
        public var retryMaximum: Duration = .seconds(60)
        /// Delay between retries after a configuration or permission error (bad secret, IP not whitelisted).
        public var configErrorRetry: Duration = .seconds(300)
        /// Forced refreshes without `bad_token` are honoured at most once per this period per app.
        public var forcedCooldown: Duration = .seconds(60)
        /// `force_refresh:true` calls allowed per app per day for stable_token apps (WeChat's own limit).
        public var stableForceDailyLimit: Int = 20
    }

    public struct HTTP: Sendable {
        public var enabled: Bool = true
        public var host: String = "127.0.0.1"
        public var port: Int = 8080
        /// When set, `/v1/*` requires `Authorization: Bearer <key>`.
        public var apiKey: Secret?
    }

    public var redis = Redis()
    public var upstream = Upstream()
    /// Identifies this worker in lock values and token metadata; defaults to `hostname-pid`.
    public var workerID: String
    public var refresh = Refresh()
    public var http = HTTP()
    public var apps: [AppConfiguration]

    public init(workerID: String, apps: [AppConfiguration]) {
        self.workerID = workerID
        self.apps = apps
    }
}
