/// How the fake WeChat behaves: token lifetime, overlap, quotas and the known credentials.
///
/// Production WeChat values are the defaults; tests shrink the durations so expiry,
/// supersession and quota resets happen within a test run.
public struct WeChatMockConfiguration: Sendable {
    /// The `expires_in` (seconds) of every newly issued token.
    public var tokenLifetime: Int
    /// How long a superseded token keeps working after a newer one was issued.
    public var overlap: Duration
    /// Successful `/cgi-bin/token` (and WeCom `gettoken`) calls allowed per id per quota window.
    public var dailyQuota: Int
    /// Length of a quota window; WeChat's is a day. Windows are aligned on the mock's start.
    public var quotaWindow: Duration
    /// `getticket` calls allowed per app per quota window, counted apart from the token endpoints'.
    /// A stand-in: WeChat documents that the quota is small, not a figure to copy.
    public var ticketDailyQuota: Int
    /// `stable_token` calls with `force_refresh: true` allowed per app per quota window.
    public var stableForceRefreshDailyLimit: Int
    /// In normal mode `stable_token` returns the current token again, except in the last this-long of
    /// its life: then it issues a new one ("平台会提前5分钟更新access_token"). WeChat's is 5 minutes.
    public var stableRenewWindow: Duration
    /// Official-account / mini-program credentials: appid → secret.
    public var apps: [String: String]
    /// WeCom credentials: corpid → corpsecret.
    public var corps: [String: String]
    /// Accept any appid or corpid whose secret is `"secret-" + id`, so load tests can use
    /// thousands of apps without listing them. Explicitly listed ids keep their own secret.
    public var derivedSecrets: Bool

    public init(
        tokenLifetime: Int = 7200,
        overlap: Duration = .seconds(300),
        dailyQuota: Int = 2000,
        quotaWindow: Duration = .seconds(86_400),
        ticketDailyQuota: Int = 2000,
        stableForceRefreshDailyLimit: Int = 20,
        stableRenewWindow: Duration = .seconds(300),
        apps: [String: String] = [:],
        corps: [String: String] = [:],
        derivedSecrets: Bool = false
    ) {
        self.tokenLifetime = tokenLifetime
        self.overlap = overlap
        self.dailyQuota = dailyQuota
        self.quotaWindow = quotaWindow
        self.ticketDailyQuota = ticketDailyQuota
        self.stableForceRefreshDailyLimit = stableForceRefreshDailyLimit
        self.stableRenewWindow = stableRenewWindow
        self.apps = apps
        self.corps = corps
        self.derivedSecrets = derivedSecrets
    }

    /// The secret a derived-secrets mock expects for `id`.
    public static func derivedSecret(for id: String) -> String {
        "secret-" + id
    }

    /// Rejects values that would make the mock meaningless, naming the offending field.
    public func validate() throws(WeChatMockConfigurationError) {
        guard self.tokenLifetime > 0 else {
            throw WeChatMockConfigurationError(field: "tokenLifetime", reason: "must be positive")
        }
        guard self.overlap >= .zero else {
            throw WeChatMockConfigurationError(field: "overlap", reason: "must not be negative")
        }
        guard self.dailyQuota >= 0 else {
            throw WeChatMockConfigurationError(field: "dailyQuota", reason: "must not be negative")
        }
        guard self.quotaWindow > .zero else {
            throw WeChatMockConfigurationError(field: "quotaWindow", reason: "must be positive")
        }
        guard self.ticketDailyQuota >= 0 else {
            throw WeChatMockConfigurationError(field: "ticketDailyQuota", reason: "must not be negative")
        }
        guard self.stableForceRefreshDailyLimit >= 0 else {
            throw WeChatMockConfigurationError(field: "stableForceRefreshDailyLimit", reason: "must not be negative")
        }
        guard self.stableRenewWindow >= .zero else {
            throw WeChatMockConfigurationError(field: "stableRenewWindow", reason: "must not be negative")
        }
    }
}

/// An invalid ``WeChatMockConfiguration`` field.
public struct WeChatMockConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The configuration property at fault.
    public var field: String
    /// What is wrong with it.
    public var reason: String

    public var description: String { "invalid wechat-mock configuration: \(self.field) \(self.reason)" }
}
