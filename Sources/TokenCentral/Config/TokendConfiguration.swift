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
        /// From `redis.password_env` or `redis.password_file`, so the password need not sit in the URL
        /// (where `ps`, logs and config dumps would show it). Used for `AUTH` with the URL's user, if any.
        public var password: Secret?
        /// `redis.sentinel`: when set, the primary is found through these sentinels; `url` then gives only
        /// the data nodes' credentials and database.
        public var sentinel: Sentinel?
    }

    public struct Upstream: Sendable {
        public var wechatBaseURL: String = "https://api.weixin.qq.com"
        public var wecomBaseURL: String = "https://qyapi.weixin.qq.com"
        /// Bound on one call to a token endpoint.
        public var timeout: Duration = .seconds(10)
        /// Upstream calls one worker makes at once, over all its apps. 8 is the HTTP client's connection
        /// limit per host: more would only wait for a connection, holding their leases meanwhile.
        public var maxConcurrentCalls: Int = 8
        /// Upstream calls per second across the whole deployment, all workers together (`UpstreamRateLimit`).
        /// 500: the first tokens of 100,000 apps are stored within 200 s, and a refresh round of 10,000
        /// apps is spread over 20 s instead of reaching WeChat as one burst of 2,000 calls in a second.
        public var rateLimit: Int = 500
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
        /// A report of a token younger than this is refused (HTTP 429). A token is valid when WeChat issues
        /// it; a genuine report within its first minute means another system fetches tokens for the same
        /// app, a ping-pong a forced refresh cannot win: this slows it, and any report loop, to one call a
        /// minute.
        public var forcedMinTokenAge: Duration = .seconds(60)
        /// Forced refreshes honoured per app per hour, across all workers. Twenty genuine revocations in
        /// one hour is far beyond anything real, and it keeps a report loop from spending the day's budget
        /// in its first hour.
        public var forcedHourlyBudget: Int = 20
        /// Forced refreshes honoured per app per Beijing day, across all workers. WeChat allows 2,000 token
        /// calls a day; scheduled refreshes of 7,200 s tokens use about 12-24 plus a few retries. 200 (a
        /// tenth) leaves 1,800 for them, whatever clients report: a quota no report loop can exhaust.
        public var forcedDailyBudget: Int = 200
    }

    public struct HTTP: Sendable {
        public var enabled: Bool = true
        public var host: String = "127.0.0.1"
        public var port: Int = 8080
        /// When set, `/v1/*` requires `Authorization: Bearer <key>`.
        public var apiKey: Secret?
        /// Serving tokens without an API key on a non-loopback address is refused at startup unless
        /// this is set: anyone who can reach the port could otherwise read every token.
        public var allowUnauthenticated: Bool = false
        /// A connection that sends no complete request part (the head of a request, a body chunk) for this
        /// long is closed: a client that opens connections and never finishes its headers cannot hold
        /// them open indefinitely, and idle keep-alive connections are released.
        public var idleTimeout: Duration = .seconds(30)
        /// How long after reading a token from Redis this worker may answer `GET .../access_token` from
        /// memory at most, for replacements nothing announced (`TokenView`).
        public var tokenCacheMaxAge: Duration = TokenView.defaultMaxAge
    }

    public var redis = Redis()
    public var upstream = Upstream()
    /// Identifies this worker in lock values and token metadata; defaults to `hostname-pid`.
    public var workerID: String
    public var refresh = Refresh()
    public var http = HTTP()
    public var gateway = Gateway()
    public var metrics = Metrics()
    public var apps: [AppConfiguration]

    public init(workerID: String, apps: [AppConfiguration]) {
        self.workerID = workerID
        self.apps = apps
    }
}
